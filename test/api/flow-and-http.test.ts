/**
 * A flow (ax650-generate in real Node-RED) and an HTTP client share the one NPU: their prompts
 * wait in one queue and reach the runtime in submission order, as the simulator's request log
 * (AX650_SIM_LOG) shows, and both get their replies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Ollama } from 'ollama';
import { startApiServer, type ApiServer } from '../../lib/ollama/server';
import type { JobRequest } from '../../lib/runtime/types';
import { startHarness, type Harness } from '../nodes/flow-harness';
import { generatedPrompts, waitFor, type SimLogLine } from './stack';

describe('a flow and an HTTP client on one NPU', () => {
  let h: Harness;
  let api: ApiServer;
  const submitted: Array<{ prompt: string; owner: string | undefined; queueDepth: number }> = [];

  before(async () => {
    // About half a second per reply, so every prompt below is submitted while the first one runs.
    h = await startHarness({ simEnv: { AX650_SIM_TOKENS_PER_SEC: '80' } });
    api = await startApiServer({ runner: h.runtime, port: 0 });
    const submit = h.runtime.submit.bind(h.runtime);
    h.runtime.submit = (req: JobRequest) => {
      const handle = submit(req);
      submitted.push({ prompt: req.prompt, owner: req.owner, queueDepth: h.runtime.info().queueDepth });
      return handle;
    };
  });
  after(async () => {
    await api.close();
    await h.close();
  });

  test('interleaved flow and HTTP prompts complete, in queue order', async () => {
    const client = new Ollama({ host: api.url });
    const http: Array<Promise<string>> = [];
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const flowPrompt = `Flow question ${i}: where is the charger?`;
      order.push(flowPrompt);
      h.node('gen').receive({ payload: flowPrompt, topic: flowPrompt });
      await waitFor(`"${flowPrompt}" to be queued`, () => submitted.length === order.length);
      const httpPrompt = `HTTP question ${i}: how warm is the motor?`;
      order.push(httpPrompt);
      http.push(client.generate({ model: 'qwen3-ax650', prompt: httpPrompt, stream: false }).then((r) => r.response ?? ''));
      await waitFor(`"${httpPrompt}" to be queued`, () => submitted.length === order.length);
    }
    assert.deepEqual(submitted.map((x) => x.prompt), order);
    assert.deepEqual(submitted.map((x) => x.owner), ['gen', 'http', 'gen', 'http', 'gen', 'http']);
    assert.ok(submitted.at(-1)!.queueDepth >= 3, `the last prompt waited behind others (queue depth ${submitted.at(-1)!.queueDepth})`);

    const replies = await Promise.all(http);
    for (const r of replies) assert.ok(r.length > 0, 'the HTTP client got its reply');
    const finals = await h.waitFor('gen-final', 3);
    assert.deepEqual(finals.map((m) => m.topic), order.filter((p) => p.startsWith('Flow')));
    for (const f of finals) assert.ok(String(f.payload).length > 0, 'the flow got its reply');

    const log = (await readFile(h.simLog, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SimLogLine);
    assert.deepEqual(generatedPrompts(log), order, 'the runtime received the prompts in submission order');
  });
});
