/**
 * Tool round trips against the real stack on the simulated `axllm serve` (the runtime's native
 * tools, PR56): the scripted model (AX650_SIM_TOOL_SCRIPT) answers with Qwen3's `<tool_call>`
 * markup, and the ollama client and a LangChain ChatOllama.bindTools agent get the call, run the
 * tool, send its result and get the final answer; no tool markup reaches any client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama, type Message } from 'ollama';
import { runOllamaAgent } from '../helpers/langchain-agent';
import { startRealStack, type RealStack } from './stack';

const MOVE = {
  type: 'function' as const,
  function: { name: 'move', description: 'Move the arm to x (cm).', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
};
const FINAL = 'The arm is at x=12.';
/** Element n answers the n-th request with tools: per test, a call and then the final answer. */
const SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 12 } }] }, { text: FINAL },
  { calls: [{ name: 'move', arguments: { x: 12 } }] }, { text: FINAL },
];

describe('tool round trips on the simulated axllm runtime', () => {
  let s: RealStack;
  before(async () => {
    s = await startRealStack({ kind: 'axllm', simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(SCRIPT) } });
  });
  after(async () => {
    await s.close();
  });

  test('ollama client: message.tool_calls, then the tool message gets the final answer', async () => {
    const client = new Ollama({ host: s.url });
    const messages: Message[] = [{ role: 'user', content: 'Move the arm to 12 cm.' }];
    const first = await client.chat({ model: 'qwen3-ax650', messages, tools: [MOVE], stream: true });
    const chunks = [];
    for await (const c of first) chunks.push(c);
    const calls = chunks.flatMap((c) => c.message.tool_calls ?? []);
    assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [['move', { x: 12 }]]);
    assert.doesNotMatch(chunks.map((c) => c.message.content).join(''), /tool_call/);
    messages.push({ role: 'assistant', content: '', tool_calls: calls }, { role: 'tool', content: '{"ok":true}' });
    const second = await client.chat({ model: 'qwen3-ax650', messages, tools: [MOVE], stream: false });
    assert.equal(second.message.content, FINAL);
  });

  test('LangChain ChatOllama.bindTools agent: calls move, runs it, answers', async () => {
    const { ran, answer } = await runOllamaAgent(s.url, [MOVE], 'Move the arm to 12 cm.', '{"ok":true}');
    assert.deepEqual(ran, [['move', { x: 12 }]]);
    assert.equal(answer, FINAL);
    assert.equal(s.runtime.info().state, 'ready');
  });
});
