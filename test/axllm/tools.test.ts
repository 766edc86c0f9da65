/**
 * Tools and JSON replies on the axllm kind, end to end: lib/actions over the Runtime over the axllm
 * simulator's scripted model (AX650_SIM_TOOL_SCRIPT / AX650_SIM_REPLY_SCRIPT, simulator/README.md), which
 * answers in Qwen3's exact <tool_call> format. Twice: a build with PR56 (native `tools`, `tool_calls`,
 * `tool` turns; reference §6) and one without (AX650_SIM_NATIVE_TOOLS=0: `tools` ignored, `tool` turns
 * refused), which gets the tools and tool turns as the chat template's own text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateStructured, runToolLoop } from '../../lib/actions';
import { isAx650Error } from '../../lib/errors';
import type { ToolSpec } from '../../lib/runtime/types';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';
import { readSimLog, type SimEvent } from '../edge/sim-log';

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

interface ChatBody {
  stream?: boolean;
  max_tokens?: number;
  tools?: unknown[];
  messages: Array<{ role: string; content: unknown; tool_calls?: unknown }>;
}

/** The chat requests the runtime got, in order. */
function chatBodies(events: readonly SimEvent[]): ChatBody[] {
  return events.flatMap((e) => (e.event === 'request' && e.method === 'POST' && e.path === '/v1/chat/completions' ? [e.body as ChatBody] : []));
}

for (const native of [true, false]) describe(`tools on the axllm kind, ${native ? 'a build with PR56' : 'a build without PR56'}`, () => {
  let sim: SimRuntime;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-axllm-tools-'));
    sim = await startSimRuntime({
      kind: 'axllm',
      simEnv: {
        AX650_SIM_TOKENS_PER_SEC: '400',
        AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT),
        AX650_SIM_REPLY_SCRIPT: JSON.stringify(REPLY_SCRIPT),
        AX650_SIM_NATIVE_TOOLS: native ? '1' : '0',
        AX650_SIM_LOG: path.join(dir, 'sim.log'),
      },
    });
  });
  after(async () => {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });

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

    // What reached the runtime: one probe for PR56 (a one-token, non-streamed tool turn), then the loop's turns.
    const [probe, ...turns] = chatBodies(await readSimLog(path.join(dir, 'sim.log')));
    assert.equal(probe?.stream, false);
    assert.equal(probe?.max_tokens, 1);
    assert.equal(turns.length, 3, 'the call with bad arguments, the repaired calls, the answer');
    for (const t of turns) {
      assert.equal(t.stream, true);
      if (native) assert.equal(t.tools?.length, 2, 'native tools on a PR56 build');
      else {
        assert.equal(t.tools, undefined, 'no tools field for a build that ignores it');
        assert.ok(t.messages.every((m) => (m.role === 'system' || m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string'), JSON.stringify(t.messages));
        assert.match(String(t.messages[0]?.content), /# Tools\n\nYou may call one or more functions[\s\S]*"name": "grip"/);
      }
    }
    const last = turns[2]!.messages;
    if (native) assert.ok(last.some((m) => m.role === 'tool'), 'tool results as tool turns');
    else assert.match(String(last[last.length - 1]?.content), /^<tool_response>\nok\n<\/tool_response>\n<tool_response>\nok\n<\/tool_response>$/);
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
