/**
 * The ax650-api node in Node-RED, on the simulated runtime of the kind under test, doing a tool round
 * trip with each client a user has (issue 15): the openai client, the ollama client and a LangChain
 * ChatOllama.bindTools agent. The scripted model (AX650_SIM_TOOL_SCRIPT) calls move with Qwen3's
 * `<tool_call>` markup, the client gets the call, runs the tool, sends the result as a `tool` message and
 * gets the final answer, with no tool markup anywhere.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { Ollama, type Message } from 'ollama';
import type { Runtime } from '../../lib/runtime/runtime';
import { simulatorTestEnv } from '../../simulator/env';
import { createKindModelDir } from '../helpers/kind';
import { runOllamaAgent } from '../helpers/langchain-agent';
import { freePort, isAlive } from '../helpers/sim';
import { getHelper, runtimeNode, type FlowNode, type NodeModule } from '../helpers/nr';

const apiNode = (): NodeModule => (require(path.resolve(__dirname, '../../nodes/ax650-api.js')) as { default: NodeModule }).default;


const MOVE = {
  type: 'function' as const,
  function: { name: 'move', description: 'Move the arm to x (cm).', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
};
const FINAL = 'The arm is at x=12.';

describe('ax650-api node: a tool round trip', () => {
  const helper = getHelper();
  /** Per client a call of move and then the final answer (element n answers the n-th request with tools). */
  const script = [0, 1, 2].flatMap(() => [{ calls: [{ name: 'move', arguments: { x: 12 } }] }, { text: FINAL }]);
  let dir: string;
  let port: number;
  let runtime: Runtime;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-api-tools-'));
    await createKindModelDir(path.join(dir, 'model'));
    await helper.startServer();
    port = await freePort();
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'api' },
      {
        id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir: path.join(dir, 'model'), modelName: 'robot-llm',
        tokenizerPort: await freePort(), runtimePort: await freePort(), startOn: 'deploy',
        simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOOL_SCRIPT: JSON.stringify(script) }),
      },
      { id: 'api', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port: String(port), modelName: '' },
    ];
    await helper.load([runtimeNode(), apiNode()], flow, {});
    runtime = (helper.getNode('rt') as unknown as { runtime: Runtime }).runtime;
    await runtime.start();
  });
  after(async () => {
    const pid = runtime?.info().pid ?? null;
    await helper.unload();
    await helper.stopServer();
    await rm(dir, { recursive: true, force: true });
    if (pid !== null) assert.equal(isAlive(pid), false, `runtime pid ${pid} gone after unload`);
  });

  test('openai client: tool_calls, the tool result, the final answer', async () => {
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'none', maxRetries: 0 });
    const question = { role: 'user' as const, content: 'Move the arm to 12 cm.' };
    const first = await client.chat.completions.create({ model: 'robot-llm', messages: [question], tools: [MOVE] });
    const choice = first.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.doesNotMatch(choice?.message.content ?? '', /tool_call/);
    const call = choice?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'move');
    assert.deepEqual(JSON.parse(call.function.arguments), { x: 12 });

    const stream = await client.chat.completions.create({
      model: 'robot-llm',
      tools: [MOVE],
      stream: true,
      messages: [question, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"ok":true,"x":12}' }],
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop');
    assert.equal(text, FINAL);
  });

  test('ollama client: message.tool_calls, then the tool message gets the final answer', async () => {
    const client = new Ollama({ host: `http://127.0.0.1:${port}` });
    const messages: Message[] = [{ role: 'user', content: 'Move the arm to 12 cm.' }];
    const first = await client.chat({ model: 'robot-llm', messages, tools: [MOVE], stream: false });
    const calls = first.message.tool_calls ?? [];
    assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [['move', { x: 12 }]]);
    assert.doesNotMatch(first.message.content, /tool_call/);
    messages.push({ role: 'assistant', content: '', tool_calls: calls }, { role: 'tool', content: '{"ok":true}' });
    const second = await client.chat({ model: 'robot-llm', messages, tools: [MOVE], stream: false });
    assert.equal(second.message.content, FINAL);
  });

  test('LangChain ChatOllama.bindTools agent: calls move, runs it, answers', async () => {
    const { ran, answer } = await runOllamaAgent(`http://127.0.0.1:${port}`, [MOVE], 'Move the arm to 12 cm.', '{"ok":true}', 3, 'robot-llm');
    assert.deepEqual(ran, [['move', { x: 12 }]]);
    assert.equal(answer, FINAL);
    assert.equal(runtime.info().state, 'ready');
  });
});
