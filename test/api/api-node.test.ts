/**
 * The ax650-api node in real Node-RED (node-red-node-test-helper; AX650_NODE_RED picks 4.1 or 5):
 * deployed next to an ax650-runtime on the simulator it serves the ollama client with the token
 * from its credentials and the runtime's model name; closing it mid-stream closes the port and
 * leaves no job behind while the runtime keeps running; a taken port is a clear status and error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Ollama } from 'ollama';
import type { Runtime } from '../../lib/runtime/runtime';
import { createKindModelDir, TEST_KIND } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, isAlive } from '../helpers/sim';
import { coreNode, getHelper, runtimeNode, type FlowNode, type NodeModule, type TestNode } from '../helpers/nr';
import { waitFor } from './stack';

const apiNode = (): NodeModule => {
  const mod = require(path.resolve(__dirname, '../../nodes/ax650-api.js')) as { default: NodeModule };
  return mod.default;
};

interface SpyCall {
  thisValue: unknown;
  args: unknown[];
}

/** What a node passed to one of its methods; the helper wraps Node.prototype methods in sinon spies. */
function callsOf(node: TestNode, method: 'error' | 'status'): unknown[][] {
  const spy = (node as unknown as Record<string, { getCalls?: () => SpyCall[] }>)[method];
  return (spy?.getCalls?.() ?? []).filter((c) => c.thisValue === node).map((c) => c.args);
}

/** A fresh TCP connection, so no pooled keep-alive socket of an HTTP client can answer for the port. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('ax650-api node', () => {
  const helper = getHelper();
  let dir: string;
  let modelDir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-api-node-'));
    modelDir = path.join(dir, 'model');
    await createKindModelDir(modelDir);
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    await rm(dir, { recursive: true, force: true });
  });

  async function runtimeConfig(extra: Record<string, unknown> = {}): Promise<FlowNode> {
    return {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, modelName: 'robot-llm',
      tokenizerPort: await freePort(), runtimePort: await freePort(), startOn: 'deploy',
      // Long slow replies (2,000 tokens at 100/s) so a stream is still running when the node closes.
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '2000', AX650_SIM_TOKENS_PER_SEC: '100' }),
      ...extra,
    };
  }

  test('serves ollama clients with its token and the runtime model name; closing it mid-stream frees everything', async () => {
    const port = await freePort();
    const token = 'flow-secret';
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'api' },
      await runtimeConfig(),
      { id: 'api', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port: String(port), modelName: '' },
    ];
    await helper.load([runtimeNode(), apiNode()], flow, { api: { token } });
    const runtime = (helper.getNode('rt') as unknown as { runtime: Runtime }).runtime;
    const api = helper.getNode('api')!;
    try {
      await runtime.start();
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the API node to listen', () => callsOf(api, 'status').some((a) => JSON.stringify(a).includes('ax650-api.status.listening')), 5000);
      assert.equal((await fetch(`${url}/api/tags`)).status, 401, 'the token from the credentials is required');

      const client = new Ollama({ host: url, headers: { Authorization: `Bearer ${token}` } });
      assert.deepEqual((await client.list()).models.map((m) => m.name), ['robot-llm:latest'], "the runtime's model name, read after its preflight");
      const r = await client.generate({ model: 'robot-llm', prompt: 'Hello from the node test.', stream: false, options: { num_predict: 3 } });
      assert.equal(r.done_reason, 'length');
      assert.equal(r.eval_count, 3);

      const stream = await client.generate({ model: 'robot-llm', prompt: 'A story that will not end in time.', stream: true });
      const it = stream[Symbol.asyncIterator]();
      assert.equal((await it.next()).done, false);
      // Settled into a value at once: its rejection comes during close(), before anything awaits it.
      const queued = client.generate({ model: 'robot-llm', prompt: 'Queued behind the story.', stream: false }).then(
        () => null,
        (e: unknown) => e as { status_code?: number },
      );
      await waitFor('the second request to be queued', () => runtime.info().queueDepth === 1);
      assert.equal(runtime.info().running, true);

      await (api as unknown as { close(removed: boolean): Promise<void> }).close(true);
      assert.equal((await queued)?.status_code, 503, 'the queued request is told the server is shutting down');
      let last: { done?: boolean; done_reason?: string } = {};
      for (let n = await it.next(); !n.done; n = await it.next()) last = n.value;
      assert.equal(last.done, true, 'the open stream ended with a last chunk');
      assert.equal(last.done_reason, 'abort');
      assert.ok(await refused(port), 'the port is closed');
      // axllm generates on after the stream is closed (docs/axllm.md): free once the stopped reply ran out
      // (at most the 1,024 max_tokens the package sends, at 100 tokens/s).
      await waitFor('the runtime to be free', () => !runtime.info().running, TEST_KIND === 'axllm' ? 30_000 : 2000);
      assert.equal(runtime.info().queueDepth, 0, 'no job left in the queue');
      assert.equal(runtime.info().state, 'ready', 'the runtime itself keeps running');
    } finally {
      const pid = runtime.info().pid;
      await helper.unload();
      if (pid !== null) assert.equal(isAlive(pid), false, `runtime pid ${pid} gone after unload`);
    }
  });

  test('examples/ollama-api.json imports and answers the acceptance request (only ports, model folder and sim speed changed)', async () => {
    const example = JSON.parse(await readFile(path.resolve(__dirname, '../../../examples/ollama-api.json'), 'utf8')) as FlowNode[];
    assert.deepEqual(example.map((n) => n.type).sort(), ['ax650-api', 'ax650-runtime', 'comment']);
    const port = await freePort();
    const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'example' }];
    for (const n of example) {
      if (n.type === 'ax650-runtime') {
        assert.equal(n.mode, 'auto', 'the example runs on the card if present, else on the simulator');
        flow.push({ ...n, modelDir, tokenizerPort: await freePort(), runtimePort: await freePort(), simEnv: JSON.stringify(simulatorTestEnv) });
      } else {
        flow.push({ ...n, z: 'tab', ...(n.type === 'ax650-api' ? { port } : {}) });
      }
    }
    await helper.load([runtimeNode(), apiNode(), coreNode('common/90-comment.js')], flow);
    const rt = flow.find((n) => n.type === 'ax650-runtime')!;
    const runtime = (helper.getNode(rt.id) as unknown as { runtime: Runtime }).runtime;
    try {
      await runtime.start();
      const api = helper.getNode(flow.find((n) => n.type === 'ax650-api')!.id)!;
      await waitFor('the API node to listen', () => callsOf(api, 'status').some((a) => JSON.stringify(a).includes('ax650-api.status.listening')), 5000);
      const r = await new Ollama({ host: `http://127.0.0.1:${port}` }).generate({ model: 'qwen3-ax650', prompt: 'Write a poem about the speed of light.', stream: false });
      assert.equal(r.done_reason, 'stop');
      assert.ok((r.response ?? '').length > 0);
    } finally {
      const pid = runtime.info().pid;
      await helper.unload();
      if (pid !== null) assert.equal(isAlive(pid), false, `runtime pid ${pid} gone after unload`);
    }
  });

  test('a port already in use: red status and node.error, nothing else breaks', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'api' },
      await runtimeConfig({ startOn: 'first-use' }),
      { id: 'api', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port },
    ];
    try {
      await helper.load([runtimeNode(), apiNode()], flow);
      const api = helper.getNode('api')!;
      await waitFor('node.error', () => callsOf(api, 'error').length > 0, 5000);
      assert.equal(callsOf(api, 'error')[0]?.[0], 'ax650-api.errors.in-use');
      const last = callsOf(api, 'status').at(-1)?.[0] as { fill?: string; text?: string };
      assert.equal(last.fill, 'red');
      assert.equal(last.text, 'ax650-api.status.in-use');
      await helper.unload();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
