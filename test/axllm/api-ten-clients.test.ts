/**
 * Issue 14 acceptance: ten HTTP clients at once on the API facade in front of the axllm simulator are
 * all answered, in queue order, with no error: the package's queue turns axllm's 503-after-5-s (its
 * gate admits one non-stream request and refuses the rest after a fixed 5 s) into waiting in line, and
 * the runtime never runs two generations at once (the simulator logs every overlap).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startApiServer } from '../../lib/ollama/server';
import type { JobRequest } from '../../lib/runtime/types';
import { promptsSent } from '../helpers/kind';
import { startSimRuntime, stopAll } from '../runtime/helpers';

after(stopAll);

test('ten clients at once on the facade over axllm: ten answers, queue order, no error, no overlap', async () => {
  // 1.5 s per reply: every request waits far longer than axllm's own 5 s slot wait would allow.
  const sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_TOKENS_PER_SEC: '20', AX650_SIM_REPLY_TOKENS: '30' } });
  const api = await startApiServer({ runner: sim.rt, port: 0 });
  const queued: string[] = [];
  const submit = sim.rt.submit.bind(sim.rt);
  sim.rt.submit = (req: JobRequest) => {
    const handle = submit(req);
    queued.push(req.prompt);
    return handle;
  };
  try {
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await fetch(`${api.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'qwen3-ax650', messages: [{ role: 'user', content: `client ${i}` }] }),
        });
        return { status: res.status, body: (await res.json()) as { choices?: Array<{ message: { content: string } }> } };
      }),
    );
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(200));
    assert.ok(answers.every((a) => (a.body.choices?.[0]?.message.content ?? '').length > 0), 'every client got a reply');
    const log = (await sim.readSimLog()) as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(promptsSent(log), queued, 'the runtime got the prompts in queue order');
    assert.equal(queued.length, 10);
    assert.deepEqual(log.filter((e) => e['event'] === 'overlap'), []);
    assert.equal(log.filter((e) => e['event'] === 'request' && e['path'] === '/v1/chat/completions').length, 10, 'one request per prompt, none refused and retried');
  } finally {
    await api.close();
    await sim.stop();
  }
});
