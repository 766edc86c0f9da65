/**
 * Built-in tokenizer service figures: time to ready, resident memory it adds, and the latency of the
 * request that costs most, a reset that restores a ~2,000-token conversation (template + encode of the
 * whole history, which the vendor also redoes on every /encode).
 */
import * as http from 'node:http';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ChatMessage } from '../lib/runtime/types';
import { startTokenizerServer, type TokenizerServer } from '../lib/tokenizer/server';
import { makeTokenizerModelDir } from '../test/helpers/tokenizer-dir';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  target: string;
  pass: boolean;
  how: string;
}

const TURN_USER = 'Move the arm to the red block, then report the gripper force and the joint temperatures. 请确认机械臂的位置。';
const TURN_REPLY = '<think>\n\n</think>\n\nThe arm is at the red block. Gripper force 12.5 N; joint temperatures 41, 43, 39 and 44 °C. 位置已确认。';

/** With 50 runs "p99" was simply the slowest one, whichever request the scheduler of a shared machine stalled. */
const RUNS = 200;
const WARM_UP = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

type Post = (url: string, body: string) => Promise<string>;

/**
 * The runtime's tokenizer client is cpp-httplib in another process, one connection per request. This client runs in
 * the bench process, so it must be light: undici's fetch allocates enough per request that its own young-generation
 * pauses (5–14 ms each, measured) landed inside the timed requests and were charged to the tokenizer.
 */
const httpPost: Post = (url, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

const fetchPost: Post = async (url, body) => (await fetch(url, { method: 'POST', body })).text();

interface ResetTimes {
  ms: number[];
  cpuMs: number[];
  tokens: number;
}

async function timeResets(server: TokenizerServer, uid: string, conversation: ChatMessage[], post: Post, runs: number): Promise<ResetTimes> {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let tokens = 0;
  for (let i = 0; i < WARM_UP + runs; i++) {
    server.setNextResetHistory(conversation);
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const body = JSON.parse(await post(`${server.url}/reset`, JSON.stringify({ uid }))) as { token_ids: number[] };
    const elapsed = performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    if (i >= WARM_UP) {
      ms.push(elapsed);
      cpuMs.push((used.user + used.system) / 1000);
    }
    tokens = body.token_ids.length;
  }
  return { ms: ms.sort((a, b) => a - b), cpuMs: cpuMs.sort((a, b) => a - b), tokens };
}

export async function benchTokenizer(): Promise<BenchRow[]> {
  const model = await makeTokenizerModelDir();
  try {
    const loadAtStart = os.loadavg()[0] ?? NaN;
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const server = await startTokenizerServer({ modelDir: model.dir, port: 0 });
    const readyMs = performance.now() - t0;
    try {
      const rssAdded = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
      const conversation: ChatMessage[] = [];
      while (server.tokenizer.encode(server.tokenizer.applyChatTemplate(conversation, true)).length < 2000) {
        conversation.push({ role: 'user', content: TURN_USER }, { role: 'assistant', content: TURN_REPLY });
      }
      const uid = ((await (await fetch(`${server.url}/get_uid`)).json()) as { uid: string }).uid;
      const runs = await timeResets(server, uid, conversation, httpPost, RUNS);
      const withFetch = await timeResets(server, uid, conversation, fetchPost, RUNS / 2);
      const p50 = percentile(runs.ms, 50);
      const p99 = percentile(runs.ms, 99);
      const how =
        `POST /reset restoring a ${conversation.length}-message, ${runs.tokens}-token conversation over loopback HTTP (node:http client, ` +
        `a new connection per request like the runtime's), ${RUNS} runs after ${WARM_UP} warm-up; slowest ${(runs.ms.at(-1) ?? NaN).toFixed(1)} ms; ` +
        `CPU of server + client per request, both in this process: median ${percentile(runs.cpuMs, 50).toFixed(1)} ms, p99 ${percentile(runs.cpuMs, 99).toFixed(1)} ms; ` +
        `for comparison with undici fetch as the client: p50 ${percentile(withFetch.ms, 50).toFixed(1)} ms, p99 ${percentile(withFetch.ms, 99).toFixed(1)} ms ` +
        `(${RUNS / 2} runs); load average ${loadAtStart.toFixed(1)} at start on ${os.cpus().length} cores`;
      return [
        { name: 'tokenizer: time to ready', value: Math.round(readyMs), unit: 'ms', target: '< 3000', pass: readyMs < 3000, how: 'startTokenizerServer() until listening: read + parse tokenizer.json, build the BPE, compile the template' },
        { name: 'tokenizer: resident memory added', value: Math.round(rssAdded), unit: 'MiB', target: '< 300', pass: rssAdded < 300, how: 'process RSS after start minus before (one tokenizer shared by all sessions)' },
        { name: 'tokenizer: encode 2,000-token conversation p50', value: Number(p50.toFixed(1)), unit: 'ms', target: '< 50', pass: p50 < 50, how },
        { name: 'tokenizer: encode 2,000-token conversation p99', value: Number(p99.toFixed(1)), unit: 'ms', target: '< 150', pass: p99 < 150, how },
      ];
    } finally {
      await server.close();
    }
  } finally {
    await model.cleanup();
  }
}

if (require.main === module) {
  benchTokenizer().then(
    (rows) => {
      console.table(rows.map(({ name, value, unit, target, pass }) => ({ name, value, unit, target, pass })));
      for (const r of rows) console.log(`- ${r.name}: ${r.how}`);
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
