/**
 * Issue 14's reference figure: ten HTTP clients at once, non-stream, straight at the simulated
 * `axllm serve` (no package in front), at the Pi 5 speeds. axllm's gate lets one request in and
 * refuses each waiting one with 503 after a fixed 5 s, so most of the ten fail: this is what the
 * package's queue in front of it (the API facade) has to turn into waiting in line.
 */
import { performance } from 'node:perf_hooks';
import { chatBody, post, startAxllm } from '../../test/simulator-axllm/helpers';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { median, round, spread } from '../lib/stats';

const CLIENTS = 10;

export async function axllmDirectRows(): Promise<BenchRow[]> {
  const run = await startAxllm({ env: { ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: '40' } });
  const results: Array<{ status: number; ms: number }> = [];
  try {
    const t0 = performance.now();
    await Promise.all(
      prompts(CLIENTS, 'Direct').map(async (prompt) => {
        const status = await post(run.baseUrl, '/v1/chat/completions', chatBody(run.folder.modelName, prompt)).then((r) => r.status, () => 0);
        results.push({ status, ms: performance.now() - t0 });
      }),
    );
  } finally {
    await run.stop();
  }
  const refused = results.filter((r) => r.status === 503);
  const answered = results.filter((r) => r.status === 200);
  const other = results.filter((r) => r.status !== 503 && r.status !== 200);
  return [
    {
      name: 'ten HTTP clients at once straight at the simulated axllm (non-stream): 503s',
      value: refused.length,
      unit: `of ${CLIENTS}`,
      target: 'reported (issue 14); every client gets 200 or 503',
      pass: other.length === 0 && refused.length + answered.length === CLIENTS,
      how: `ax650-sim serve, 4.5 tok/s, 10.46 ms/token prefill, 40-token replies; ${answered.length} answered 200 (after ${spread(answered.map((r) => r.ms / 1000), 1, ' s')}), ${refused.length} got 503 rate_limit_exceeded after a median ${round(median(refused.map((r) => r.ms)) / 1000, 2)} s (axllm's fixed 5 s slot wait)${other.length > 0 ? `; ${other.length} other outcomes: ${other.map((r) => r.status).join(', ')}` : ''}`,
    },
  ];
}
