/**
 * Reads the G1 runtime's stdout, one ANSI-stripped line at a time (the supervisor splits on `\r` and
 * `\n`), and turns it into typed events: load progress, init facts, readiness, failures and the
 * per-request statistics the runtime prints but never returns over HTTP.
 *
 * Matching is on message text only. The `[%4d]` line numbers in the vendor's ALOG prefix differ
 * between builds (reference §2.2), so the prefix is parsed generically and then ignored, except for
 * its function name: `handle_generate` echoes the user's prompt (`ALOGI("%s", prompt)` in
 * main_api.cpp), and a prompt must never be mistaken for a log line.
 */
import { EventEmitter } from 'node:events';
import { axllmFatal, CHAT_REQUEST, MODELS_LINE, SERVER_STARTING, splitAxllmLine, type AxllmFatal, type AxllmLogLine } from './axllm-log';

export interface LoadProgress {
  step: number;
  total: number;
  percent: number;
  /** The text after the bar, e.g. `init 3 axmodel ok,remain_cmm(3665 MB)`. */
  message: string;
}

export interface RuntimeInitInfo {
  maxTokenLen?: number;
  prefillMaxTokenNum?: number;
  uid?: string;
  /** Last CMM remainder reported while loading (`remain_cmm(N MB)` or the cmm table), MB. */
  remainCmmMb?: number;
}

export interface TokenizerConnectFailure {
  url: string;
  /** `connect failed …, try again in  N/M` counts down: N retries are left of M. Absent on the final failure. */
  retriesLeft?: number;
  retriesTotal?: number;
  final: boolean;
}

/** Per-request lines, in the order the runtime prints them for one generate (reference §2.3). */
export type RequestStat =
  /** axllm: `OpenAI chat request: …`, once per accepted request. */
  | { kind: 'requestStart' }
  | { kind: 'setKvCache'; precomputeLen: number; inputNumToken: number }
  | { kind: 'firstRun' }
  /** `reset: true` when printed by the reset prefill (GenerateKVCachePrefill adds `prefill_grpid`). */
  | { kind: 'inputTokens'; tokens: number; reset: boolean }
  | { kind: 'ttft'; ms: number }
  | { kind: 'hitEos'; tokensPerSecond: number }
  | { kind: 'kvCache'; precomputeLen: number; remaining: number }
  | { kind: 'contextFull'; detail: string };

export interface RuntimeLogEventMap {
  progress: [progress: LoadProgress];
  /** Emitted with the accumulated info each time a field is learned. */
  init: [info: RuntimeInitInfo];
  serverRunning: [port: number];
  initFailed: [failure: { reason: string; errors: string[] }];
  deadCard: [device: number];
  tokenizerConnectFailed: [failure: TokenizerConnectFailure];
  stat: [stat: RequestStat];
  /** A line after which the runtime cannot serve (axllm: busy port, bad config, CMM refused). */
  fatal: [fatal: AxllmFatal];
}

interface AlogLine {
  level: string;
  func: string;
  message: string;
}

// `[I][                            Init][ 130]: LLM init start` (sample_log.h: "[%c][%32s][%4d]: ").
const ALOG = /^\[([IWENDC])\]\[\s*([^\]]*?)\]\[\s*\d+\]: ?(.*)$/;
// cqdm.cpp: "%3d%% | <bar> | %3d / %3d [%2.2fs<%2.2fs, %2.2f %s/s] %s"; `token/s` bars come from /api/chat decodes, not loads.
// Not anchored: axllm's bars can follow other text on a pipe (axllm reference §3).
const PROGRESS = /(?<!\d)(\d{1,3})% \|[^|]*\| +(\d+) \/ +(\d+) \[[^\]]*?, [\d.]+ (\w+)\/s\] ?(.*)$/;
const SERVER_RUNNING = /^Server running on port (\d+)\.\.\./;
const CONNECT_RETRY = /^connect failed (\S+), try again in +(\d+)\/ *(\d+)/;
// AXCL host runtime: `[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead`.
const DEAD_CARD = /\]: ?device (\d+) is dead\b/;
const CMM_TABLE_ROW = /^\|\s*\d+\|\s*(-?\d+)\|$/;
const REMAIN_CMM = /remain_cmm\((-?\d+) MB\)/;

export class RuntimeLogParser extends EventEmitter<RuntimeLogEventMap> {
  private readonly info: RuntimeInitInfo = {};
  private errorsSinceStart: string[] = [];
  private announcedPort = 0;

  /** Everything learned from the init log so far. */
  initInfo(): Readonly<RuntimeInitInfo> {
    return { ...this.info };
  }

  push(line: string): void {
    const text = line.replace(/\s+$/, '');
    if (text === '') return;
    const alog = ALOG.exec(text);
    if (alog) {
      this.onAlog({ level: alog[1] ?? '', func: alog[2] ?? '', message: alog[3] ?? '' });
      return;
    }
    const axllm = splitAxllmLine(text);
    if (axllm) {
      if (axllm.before.trim() !== '') this.onRaw(axllm.before);
      this.onAxllm(axllm.log);
      return;
    }
    this.onRaw(text);
  }

  /** The same messages as the G1 runtime's where they exist; the ERR ones also collected for `LLM.Init failed`. */
  private onAxllm(line: AxllmLogLine): void {
    const fatal = axllmFatal(line.message);
    if (fatal) {
      this.emit('fatal', fatal);
      return;
    }
    if (CHAT_REQUEST.test(line.message)) {
      this.emit('stat', { kind: 'requestStart' });
      return;
    }
    if (line.level === 'ERR') {
      if (line.message === 'LLM.Init failed') {
        const errors = [...this.errorsSinceStart];
        this.errorsSinceStart = [];
        this.emit('initFailed', { reason: errors[0] ?? line.message, errors: [...errors, line.message] });
        return;
      }
      if (this.errorsSinceStart.length < 32) this.errorsSinceStart.push(line.message);
    }
    if (!this.matchStat(line.message)) this.matchInit(line.message);
  }

  private onAlog(line: AlogLine): void {
    if (line.func === 'handle_generate' || line.func === 'handle_chat') return;
    if (line.level === 'E') this.onError(line.message);
    if (!this.matchStat(line.message)) this.matchInit(line.message);
  }

  private onError(message: string): void {
    if (/\bSetKVCache failed\b|^precompute_len\(\d+\) \+ input_num_token\(\d+\) >|^input_num_token\(\d+\) > _attr\.prefill_max_token_num/.test(message)) {
      this.emit('stat', { kind: 'contextFull', detail: message });
      return;
    }
    const connect = /^connect (\S+) failed$/.exec(message);
    if (connect) this.emit('tokenizerConnectFailed', { url: connect[1] ?? '', final: true });
    if (/^lLaMa\.Init failed$/.test(message)) {
      const errors = [...this.errorsSinceStart];
      this.errorsSinceStart = [];
      this.emit('initFailed', { reason: errors[0] ?? message, errors: [...errors, message] });
      return;
    }
    if (this.errorsSinceStart.length < 32) this.errorsSinceStart.push(message);
  }

  private onRaw(text: string): void {
    const progress = PROGRESS.exec(text);
    if (progress) {
      if (progress[4] !== 'count') return;
      const message = progress[5] ?? '';
      this.emit('progress', {
        percent: Number(progress[1]),
        step: Number(progress[2]),
        total: Number(progress[3]),
        message,
      });
      const cmm = REMAIN_CMM.exec(message);
      if (cmm) this.learn({ remainCmmMb: Number(cmm[1]) });
      return;
    }
    const starting = SERVER_STARTING.exec(text);
    if (starting) {
      this.announcedPort = Number(starting[1]);
      return;
    }
    if (MODELS_LINE.test(text) && this.announcedPort > 0) {
      this.emit('serverRunning', this.announcedPort);
      return;
    }
    const fatal = axllmFatal(text);
    if (fatal) {
      this.emit('fatal', fatal);
      return;
    }
    const running = SERVER_RUNNING.exec(text);
    if (running) {
      this.emit('serverRunning', Number(running[1]));
      return;
    }
    const retry = CONNECT_RETRY.exec(text);
    if (retry) {
      this.emit('tokenizerConnectFailed', {
        url: retry[1] ?? '',
        retriesLeft: Number(retry[2]),
        retriesTotal: Number(retry[3]),
        final: false,
      });
      return;
    }
    const dead = DEAD_CARD.exec(text);
    if (dead && text.startsWith('[')) {
      this.emit('deadCard', Number(dead[1]));
      return;
    }
    const row = CMM_TABLE_ROW.exec(text);
    if (row) this.learn({ remainCmmMb: Number(row[1]) });
  }

  private matchStat(m: string): boolean {
    let r: RegExpExecArray | null;
    if ((r = /^prefill_grpid:\d+ kv_cache_num:\d+ precompute_len:(\d+) input_num_token:(\d+)/.exec(m))) {
      this.emit('stat', { kind: 'setKvCache', precomputeLen: Number(r[1]), inputNumToken: Number(r[2]) });
    } else if (m === 'first run') {
      this.emit('stat', { kind: 'firstRun' });
    } else if ((r = /^input token num : (\d+), prefill_split_num : \d+(.*)$/.exec(m))) {
      this.emit('stat', { kind: 'inputTokens', tokens: Number(r[1]), reset: /prefill_grpid/.test(r[2] ?? '') });
    } else if ((r = /^ttft: ([\d.]+) ms/.exec(m))) {
      this.emit('stat', { kind: 'ttft', ms: Number(r[1]) });
    } else if ((r = /^hit eos,avg ([\d.]+|inf|nan) token\/s/.exec(m))) {
      const rate = Number(r[1]);
      if (Number.isFinite(rate)) this.emit('stat', { kind: 'hitEos', tokensPerSecond: rate });
    } else if ((r = /^precompute_len:(\d+), remaining:(-?\d+)/.exec(m))) {
      this.emit('stat', { kind: 'kvCache', precomputeLen: Number(r[1]), remaining: Number(r[2]) });
    } else {
      return false;
    }
    return true;
  }

  private matchInit(m: string): boolean {
    let r: RegExpExecArray | null;
    if (m === 'LLM init start') {
      this.errorsSinceStart = [];
      return true;
    }
    if ((r = /^max_token_len : (\d+)/.exec(m))) this.learn({ maxTokenLen: Number(r[1]) });
    else if ((r = /^prefill_max_token_num : (\d+)/.exec(m))) this.learn({ prefillMaxTokenNum: Number(r[1]) });
    else if ((r = /^uid: ([0-9a-fA-F-]{8,})/.exec(m))) this.learn({ uid: r[1] ?? '' });
    else if ((r = REMAIN_CMM.exec(m))) this.learn({ remainCmmMb: Number(r[1]) });
    else return false;
    return true;
  }

  private learn(patch: RuntimeInitInfo): void {
    Object.assign(this.info, patch);
    this.emit('init', this.initInfo());
  }
}
