/**
 * The log lines of `axllm serve` (reference axllm-serve-protocol.md §3) that the one log parser
 * needs besides those it shares with the G1 runtime (`max_token_len : n`, `ttft:`, `hit eos`…):
 * the prefix `HH:MM:SS.mmm TAG func:line | msg`, found anywhere in a line because on a pipe the last
 * progress bar is glued to the next log line; readiness (`Models: NAME` after the server line);
 * and the fatal lines a supervisor must turn into an error code.
 */
import type { ErrorCode } from '../errors';

export interface AxllmLogLine {
  level: 'DBG' | 'INF' | 'NTC' | 'WRN' | 'ERR';
  func: string;
  message: string;
}

const PREFIX = /(\d\d:\d\d:\d\d\.\d{3}) (DBG|INF|NTC|WRN|ERR) ([^\s|]+) \| ?/;

/** Splits a line at the first axllm log prefix: what came before it (a glued bar) and the log line. */
export function splitAxllmLine(text: string): { before: string; log: AxllmLogLine } | null {
  const m = PREFIX.exec(text);
  if (!m) return null;
  const func = (m[3] ?? '').replace(/:\d+$/, '');
  return { before: text.slice(0, m.index), log: { level: m[2] as AxllmLogLine['level'], func, message: text.slice(m.index + m[0].length) } };
}

export interface AxllmFatal {
  code: ErrorCode;
  message: string;
}

/** A line after which the process cannot serve: the error code and a sentence for the user. */
export function axllmFatal(message: string): AxllmFatal | null {
  let r: RegExpExecArray | null;
  if ((r = /^Port (\d+) is unavailable: (.*)$/.exec(message))) {
    return { code: 'PORT_IN_USE', message: `Port ${r[1]} is not available to axllm (${r[2]}); choose another port on the runtime node or stop what holds it.` };
  }
  if ((r = /^Model path does not exist: (.*)$/.exec(message))) {
    return { code: 'MODEL_FILES_MISSING', message: `axllm says the model folder does not exist: ${r[1]}.` };
  }
  if (/^(Failed to load config from|Using default configuration)/.test(message)) {
    return { code: 'CONFIG_INVALID', message: `axllm could not read the folder's config.json and fell back to its defaults: ${message}` };
  }
  // `[mem-guard] UNSAFE:` alone is not fatal (mem_guard_on_unsafe "warn" loads on); the abort line is.
  if ((r = /mem-guard aborted (?:device load|mid-load): (.*)$/.exec(message))) {
    return {
      code: 'NPU_MEMORY_LOW',
      message: `The card has not enough free memory (CMM) for this model: ${r[1]}. Stop other models on the card, or use a smaller model.`,
    };
  }
  return null;
}

/** `OpenAI API Server starting on http://0.0.0.0:8000`: the port it is about to listen on. */
export const SERVER_STARTING = /OpenAI API Server starting on https?:\/\/[^\s:]+:(\d+)/;
/** The last line before `listen()`: `/health` answers from now on (§3 Readiness). */
export const MODELS_LINE = /^Models: (.+)$/;
/** One per accepted chat request, before its prefill. */
export const CHAT_REQUEST = /^OpenAI chat request: /;
