/**
 * Tools on the 2025 runtime kind (main-api): the built-in tokenizer renders the tools into the context, the
 * simulator's AX650_SIM_TOOL_SCRIPT answers the turns whose context has the tools block with Qwen3's exact
 * `<tool_call>` text, and the package parses the calls out of the stream. Runs on the main-api kind only
 * (axllm's native tools are the other helper's tests).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import type { ChatMessage, JobRequest, ToolSpec } from '../../lib/runtime/types';
import { startSimRuntime, type SimRuntime } from './helpers';

const TOOLS: ToolSpec[] = [
  { type: 'function', function: { name: 'move', description: 'Move the arm', parameters: { type: 'object', properties: { x: { type: 'number' } } } } },
  { type: 'function', function: { name: 'grip', description: 'Close the gripper', parameters: { type: 'object', properties: {} } } },
];
const SCRIPT = JSON.stringify([{ calls: [{ name: 'move', arguments: { x: 1 } }, { name: 'grip', arguments: {} }] }, { text: 'The arm is at x=1 and holds the cup.' }]);

describe('tools on the main-api kind', { skip: (process.env['AX650_TEST_KINDS'] ?? 'main-api').split(',')[0]?.trim() !== 'main-api' }, () => {
  const started: SimRuntime[] = [];
  after(async () => {
    for (const s of started) await s.stop();
  });

  test('a tools request yields toolCalls without markup in the deltas; the follow-up with the results gets the final answer', async () => {
    const s = await startSimRuntime({ kind: 'main-api', simEnv: { AX650_SIM_TOOL_SCRIPT: SCRIPT } });
    started.push(s);
    const server = s.rt.tokenizerServer!;
    const contexts: string[] = [];
    server.on('encode', (e) => contexts.push(server.tokenizer.decode(e.tokenIds)));

    const first: JobRequest = { prompt: 'Pick up the cup at x=1.', tools: TOOLS };
    const handle = s.rt.submit(first);
    const deltas: string[] = [];
    handle.on('delta', (d: string) => deltas.push(d));
    const r1 = await handle.result;
    assert.equal(deltas.join('').includes('<tool_call>'), false);
    assert.equal(deltas.join('').includes('tool_call'), false);
    assert.equal(r1.text.trim(), '');
    assert.deepEqual(r1.toolCalls?.map((c) => [c.name, c.arguments]), [['move', { x: 1 }], ['grip', {}]]);
    assert.match(contexts[0] ?? '', /# Tools[\s\S]*<tools>\n\{"type": "function", "function": \{"name": "move"/);

    const transcript: ChatMessage[] = [
      { role: 'user', content: first.prompt },
      { role: 'assistant', content: '', toolCalls: r1.toolCalls ?? [] },
      { role: 'tool', content: '{"x": 1}', toolName: 'move', toolCallId: r1.toolCalls?.[0]?.id ?? '' },
      { role: 'tool', content: 'holding', toolName: 'grip', toolCallId: r1.toolCalls?.[1]?.id ?? '' },
    ];
    const r2 = await s.rt.submit({ prompt: 'continue', messages: transcript, tools: TOOLS }).result;
    assert.equal(r2.text, 'The arm is at x=1 and holds the cup.');
    assert.equal(r2.toolCalls, undefined);
    const last = contexts[contexts.length - 1] ?? '';
    assert.ok(
      last.endsWith('<|im_start|>user\n<tool_response>\n{"x": 1}\n</tool_response>\n<tool_response>\nholding\n</tool_response><|im_end|>\n<|im_start|>assistant\n'),
      `the tool results are the new turn: ${JSON.stringify(last.slice(-200))}`,
    );
    assert.ok(last.includes('<|im_start|>assistant\n<tool_call>\n{"name": "move", "arguments": {"x": 1}}\n</tool_call>\n<tool_call>\n{"name": "grip", "arguments": {}}\n</tool_call><|im_end|>'));

    // Without tools (and with toolChoice 'none') the context has no tools block and replies are ordinary.
    const r3 = await s.rt.submit({ prompt: 'Hello', tools: TOOLS, toolChoice: 'none' }).result;
    assert.equal(r3.toolCalls, undefined);
    assert.equal((contexts[contexts.length - 1] ?? '').includes('# Tools'), false);
  });

  test("the vendor's Python tokenizer cannot render tools: TOOLS_UNSUPPORTED, not tools silently dropped", async () => {
    const s = await startSimRuntime({ kind: 'main-api', vendorTokenizer: true });
    started.push(s);
    await assert.rejects(s.rt.submit({ prompt: 'Move', tools: TOOLS }).result, (e: unknown) => isAx650Error(e) && e.code === 'TOOLS_UNSUPPORTED' && /built-in/.test(e.message));
    const ok = await s.rt.submit({ prompt: 'Move' }).result;
    assert.ok(ok.text.length > 0, 'the runtime still answers prompts without tools');
  });
});
