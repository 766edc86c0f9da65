/**
 * The toolbox registry behind ax650-tool (nodes/shared/toolbox.ts), without Node-RED: a tool node fires only with
 * arguments its own JSON Schema accepts, whatever the tool loop checked them against; a tool name calls one tool node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTool, answerTool, callTool, hasTool, toolboxSpecs } from '../../nodes/shared/toolbox';
import type { ToolCall, ToolSpec } from '../../lib/runtime/types';

const MOVE: ToolSpec = { type: 'function', function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } };

function call(args: Record<string, unknown>): ToolCall {
  return { id: 'c1', name: 'move', arguments: args, raw: JSON.stringify({ name: 'move', arguments: args }) };
}

test('a call whose arguments the tool node\'s schema refuses never fires it (TOOL_ARGS_INVALID)', async () => {
  const fired: unknown[] = [];
  const tool = addTool('unit-schema', { spec: MOVE, fire: (c) => fired.push(c.arguments) });
  try {
    await assert.rejects(callTool('unit-schema', call({ x: 'left' }), new AbortController().signal), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'TOOL_ARGS_INVALID');
      assert.match(e.message, /"move".*x must be number.*not fired/);
      return true;
    });
    assert.deepEqual(fired, []);
  } finally {
    tool.remove();
  }
});

test('a duplicate tool name: the tool node registered first is the one offered and called; the duplicate takes over once it is removed', async () => {
  const fired: string[] = [];
  const taken: string[] = [];
  const endpoint = (who: string, description: string) => ({
    spec: { ...MOVE, function: { ...MOVE.function, description } },
    fire: (c: ToolCall, key: string) => {
      fired.push(who);
      answerTool(key, `${who} moved`);
    },
    onActive: () => taken.push(who),
  });
  const first = addTool('unit-dup', endpoint('first', 'the first move'));
  const second = addTool('unit-dup', endpoint('second', 'the second move'));
  try {
    assert.deepEqual([first.duplicate, second.duplicate], [false, true]);
    assert.deepEqual(toolboxSpecs('unit-dup').map((s) => s.function.description), ['the first move']);
    assert.equal(await callTool('unit-dup', call({ x: 1 }), new AbortController().signal), 'first moved');
    first.remove();
    assert.deepEqual(taken, ['second']);
    assert.equal(await callTool('unit-dup', call({ x: 2 }), new AbortController().signal), 'second moved');
    assert.deepEqual(fired, ['first', 'second']);
  } finally {
    first.remove();
    second.remove();
  }
  assert.equal(hasTool('unit-dup', 'move'), false);
});
