/**
 * The toolbox registry behind ax650-tool (nodes/shared/toolbox.ts), without Node-RED: a tool node fires only with
 * arguments its own JSON Schema accepts, whatever the tool loop checked them against.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addTool, callTool } from '../../nodes/shared/toolbox';
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
    tool();
  }
});
