/**
 * Built-in tokenizer service figures: time to ready, resident memory it adds, and the latency of the
 * request that costs most, a reset that restores a ~2,000-token conversation (template + encode of the
 * whole history, which the vendor also redoes on every /encode).
 */
import { performance } from 'node:perf_hooks';
import type { ChatMessage } from '../lib/runtime/types';
import { startTokenizerServer } from '../lib/tokenizer/server';
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function benchTokenizer(): Promise<BenchRow[]> {
  const model = await makeTokenizerModelDir();
  try {
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
      const times: number[] = [];
      let tokens = 0;
      for (let i = 0; i < 60; i++) {
        server.setNextResetHistory(conversation);
        const start = performance.now();
        const body = (await (await fetch(`${server.url}/reset`, { method: 'POST', body: JSON.stringify({ uid }) })).json()) as { token_ids: number[] };
        if (i >= 10) times.push(performance.now() - start);
        tokens = body.token_ids.length;
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p99 = percentile(times, 99);
      const how = `POST /reset restoring a ${conversation.length}-message, ${tokens}-token conversation over loopback HTTP, 50 runs after 10 warm-up`;
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
