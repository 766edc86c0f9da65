/**
 * Tools and JSON replies on the axllm kind, end to end: lib/actions over the Runtime over the axllm
 * simulator's scripted model (AX650_SIM_TOOL_SCRIPT / AX650_SIM_REPLY_SCRIPT, tools-knobs.md), which
 * answers in Qwen3's exact <tool_call> format and sends PR56 `tool_calls` (reference §6).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateStructured, runToolLoop } from '../../lib/actions';
import { isAx650Error } from '../../lib/errors';
import type { ToolSpec } from '../../lib/runtime/types';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';

after(stopAll);

const MOVE: ToolSpec = { type: 'function', function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } };
const GRIP: ToolSpec = { type: 'function', function: { name: 'grip', parameters: { type: 'object', properties: { closed: { type: 'boolean' } }, required: ['closed'] } } };
const TOOL_SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 'left' } }] },
  { calls: [{ name: 'move', arguments: { x: 1 } }, { name: 'grip', arguments: { closed: true } }] },
  { text: 'The arm is at x=1 and holds the cup.' },
  { raw: '<tool_call>\n{"name": "move", "arguments": {"x": \n</tool_call>' },
  { raw: '<tool_call>\n{"name": "move", "arguments": {}}\n</tool_call>' },
  { calls: [{ name: 'fly', arguments: {} }] },
];
const REPLY_SCRIPT = ['{"action": "go", "speed": "fast"}', '```json\n{"action": "go", "speed": 2}\n```'];

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    assert.ok(isAx650Error(e), String(e));
    return e.code;
  }
}

describe('tools on the axllm kind', () => {
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT), AX650_SIM_REPLY_SCRIPT: JSON.stringify(REPLY_SCRIPT) } });
  });
  after(() => sim.stop());

  test('repair, two tools, final answer; no markup in the stream', async () => {
    const ran: unknown[] = [];
    let streamed = '';
    const out = await runToolLoop(sim.rt, { prompt: 'Pick up the cup' }, {
      tools: [MOVE, GRIP],
      runTool: async (c) => {
        ran.push({ [c.name]: c.arguments });
        return 'ok';
      },
      onDelta: (d) => (streamed += d),
    });
    assert.equal(out.kind, 'final');
    assert.equal(out.text, 'The arm is at x=1 and holds the cup.');
    assert.deepEqual(ran, [{ move: { x: 1 } }, { grip: { closed: true } }]);
    assert.equal(out.stats.repairs, 1);
    assert.deepEqual(out.stats.toolCalls.map((c) => c.name), ['move', 'grip']);
    assert.doesNotMatch(streamed, /tool_call/);
  });

  test('malformed, then an invalid repair: TOOL_ARGS_INVALID; an unknown tool: TOOL_UNKNOWN', async () => {
    assert.equal(await code(runToolLoop(sim.rt, { prompt: 'Move' }, { tools: [MOVE], runTool: async () => 'ok' })), 'TOOL_ARGS_INVALID');
    assert.equal(await code(runToolLoop(sim.rt, { prompt: 'Fly' }, { tools: [MOVE], runTool: async () => 'ok' })), 'TOOL_UNKNOWN');
  });

  test('JSON schema reply: invalid, then repaired', async () => {
    const schema = { type: 'object', properties: { action: { type: 'string' }, speed: { type: 'number' } }, required: ['action', 'speed'] };
    const out = await generateStructured(sim.rt, { prompt: 'Go' }, schema);
    assert.deepEqual(out.value, { action: 'go', speed: 2 });
    assert.equal(out.repairs, 1);
  });
});
