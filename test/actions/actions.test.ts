/** lib/actions on a scripted runner: JSON replies, the tool loop and its errors, the markup filter. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFormat, checkTools, generateStructured, parseJsonReply, parseToolMarkup, runToolLoop, ToolMarkupFilter, validateAgainst } from '../../lib/actions';
import { isAx650Error } from '../../lib/errors';
import type { ToolSpec } from '../../lib/runtime/types';
import { ScriptedRunner } from './scripted-runner';

const call = (name: string, args: unknown) => `<tool_call>\n${JSON.stringify({ name, arguments: args }).replace(/":/g, '": ').replace(/,"/g, ', "')}\n</tool_call>`;
const MOVE: ToolSpec = { type: 'function', function: { name: 'move', description: 'Move the arm', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: false } } };
const GRIP: ToolSpec = { type: 'function', function: { name: 'grip', parameters: { type: 'object', properties: { closed: { type: 'boolean' } }, required: ['closed'] } } };
const SCHEMA = { type: 'object', properties: { action: { type: 'string', enum: ['go', 'stop'] }, speed: { type: 'number' } }, required: ['action', 'speed'] };

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(isAx650Error(e), String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('JSON replies', () => {
  test('fences and thinking are stripped, prose around an object is tolerated', () => {
    assert.deepEqual(parseJsonReply('<think>hmm</think>\n```json\n{"a": 1}\n```'), { ok: true, value: { a: 1 } });
    assert.deepEqual(parseJsonReply('Sure: {"a": [1, 2]} done'), { ok: true, value: { a: [1, 2] } });
    assert.equal(parseJsonReply('no json here').ok, false);
  });

  test('the validator message is a sentence naming the field', () => {
    const v = validateAgainst(SCHEMA, { action: 'fly' }, 'x');
    assert.equal(v.ok, false);
    const msg = !v.ok ? v.message : '';
    assert.match(msg, /action must be one of \["go","stop"\]/);
    assert.match(msg, /the value must have the property "speed"/);
  });

  test('valid at once: the parsed object, no repair', async () => {
    const r = new ScriptedRunner(['{"action": "go", "speed": 2}']);
    const out = await generateStructured(r, { prompt: 'Go fast' }, SCHEMA);
    assert.deepEqual(out.value, { action: 'go', speed: 2 });
    assert.equal(out.repairs, 0);
    assert.match(r.requests[0]!.prompt, /^Go fast\n\nAnswer with one JSON value only.*"speed"/s);
  });

  test('invalid then repaired: the validator message goes back to the model', async () => {
    const r = new ScriptedRunner(['{"action": "go", "speed": "fast"}', '```json\n{"action": "go", "speed": 3}\n```']);
    const out = await generateStructured(r, { prompt: 'Go' }, SCHEMA);
    assert.deepEqual(out.value, { action: 'go', speed: 3 });
    assert.equal(out.repairs, 1);
    const repair = r.requests[1]!.messages!;
    assert.equal(repair[1]!.role, 'assistant');
    assert.match(repair[2]!.content, /speed must be number/);
    assert.equal(out.result.stats.completionTokens, 10);
  });

  test('still invalid: SCHEMA_MISMATCH with the raw text', async () => {
    const r = new ScriptedRunner(['nope', 'still nope']);
    const e = await rejectsWith(generateStructured(r, { prompt: 'Go' }, SCHEMA), 'SCHEMA_MISMATCH');
    assert.match(e.message, /Raw reply: still nope/);
    assert.equal(r.requests.length, 2);
  });

  test('a format that is not "json" nor a schema is BAD_INPUT', () => {
    assert.throws(() => checkFormat('yaml'), /format must be "json" or a JSON Schema/);
    assert.throws(() => checkFormat({ type: 'nonsense-type' }), /not valid/);
  });
});

describe('tool markup', () => {
  test('calls are parsed, text kept, malformed blocks kept raw', () => {
    const p = parseToolMarkup(`Moving.\n${call('move', { x: 1 })}\n<tool_call>\n{"name": "grip", "arguments": {"closed": \n</tool_call>`);
    assert.equal(p.text, 'Moving.');
    assert.deepEqual(p.calls[0]!.arguments, { x: 1 });
    assert.equal(p.calls[0]!.name, 'move');
    assert.equal(p.calls[1]!.name, '');
  });

  test('the stream filter drops markup split across any deltas', () => {
    const text = `Sure.${call('move', { x: 1 })} Done <tool not a tag`;
    for (let size = 1; size <= 7; size++) {
      const f = new ToolMarkupFilter();
      let out = '';
      for (let i = 0; i < text.length; i += size) out += f.push(text.slice(i, i + size));
      out += f.flush();
      assert.equal(out, 'Sure. Done <tool not a tag', `piece size ${size}`);
    }
  });

  test('tools in OpenAI format are checked', () => {
    assert.equal(checkTools([MOVE, GRIP]).length, 2);
    assert.throws(() => checkTools([MOVE, MOVE]), /given twice/);
    assert.throws(() => checkTools([{ type: 'function', function: { name: 'a b' } }]), /name of letters/);
    assert.throws(() => checkTools('move'), /tools must be an array/);
  });
});

describe('tool loop', () => {
  test('two tools over two rounds, then the final answer with stats.toolCalls', async () => {
    const r = new ScriptedRunner([call('move', { x: 1 }), `${call('grip', { closed: true })}\n${call('move', { x: 2 })}`, 'The arm moved and gripped.']);
    const ran: string[] = [];
    let streamed = '';
    const out = await runToolLoop(r, { prompt: 'Pick it up' }, {
      tools: [MOVE, GRIP],
      runTool: async (c) => {
        ran.push(`${c.name}:${JSON.stringify(c.arguments)}`);
        return { ok: true };
      },
      onDelta: (d) => (streamed += d),
    });
    assert.equal(out.kind, 'final');
    assert.equal(out.text, 'The arm moved and gripped.');
    assert.deepEqual(ran, ['move:{"x":1}', 'grip:{"closed":true}', 'move:{"x":2}']);
    assert.deepEqual(out.stats.toolCalls.map((c) => c.name), ['move', 'grip', 'move']);
    assert.equal(out.stats.rounds, 2);
    assert.equal(streamed.trim(), 'The arm moved and gripped.');
    assert.doesNotMatch(streamed, /tool_call/);
    const third = r.requests[2]!.messages!;
    assert.deepEqual(third.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'tool', 'tool']);
    assert.equal(third[2]!.content, '{"ok":true}');
    assert.equal(third[2]!.toolCallId, third[1]!.toolCalls![0]!.id);
  });

  test('invalid arguments are repaired, the tool gets the valid ones', async () => {
    const r = new ScriptedRunner([call('move', { x: 'left' }), call('move', { x: 5 }), 'Done.']);
    const got: unknown[] = [];
    const out = await runToolLoop(r, { prompt: 'Move' }, { tools: [MOVE], runTool: async (c) => got.push(c.arguments) });
    assert.deepEqual(got, [{ x: 5 }]);
    assert.equal(out.stats.repairs, 1);
    assert.match(r.requests[1]!.messages![2]!.content, /"move": x must be number/);
  });

  test('an invalid repair is TOOL_ARGS_INVALID; malformed JSON counts as invalid', async () => {
    const r = new ScriptedRunner(['<tool_call>\n{"name": "move", "arguments": {"x": \n</tool_call>', call('move', { y: 1 })]);
    const e = await rejectsWith(runToolLoop(r, { prompt: 'Move' }, { tools: [MOVE], runTool: async () => 'ok' }), 'TOOL_ARGS_INVALID');
    assert.match(e.message, /must have the property "x"/);
  });

  test('an unknown tool is TOOL_UNKNOWN', async () => {
    const r = new ScriptedRunner([call('fly', {})]);
    const e = await rejectsWith(runToolLoop(r, { prompt: 'Fly' }, { tools: [MOVE], runTool: async () => 'ok' }), 'TOOL_UNKNOWN');
    assert.match(e.message, /"fly", which is not one of the tools offered \(move\)/);
  });

  test('a tool that never answers is TOOL_TIMEOUT and its signal is aborted', async () => {
    const r = new ScriptedRunner([call('move', { x: 1 })]);
    let aborted = false;
    await rejectsWith(
      runToolLoop(r, { prompt: 'Move' }, {
        tools: [MOVE],
        toolTimeoutMs: 50,
        runTool: (_c, signal) => new Promise((resolve) => signal.addEventListener('abort', () => { aborted = true; setTimeout(resolve, 1_000).unref(); })),
      }),
      'TOOL_TIMEOUT',
    );
    assert.ok(aborted);
  });

  test('calls the loop cannot run are handed out', async () => {
    const r = new ScriptedRunner([call('move', { x: 1 })]);
    const out = await runToolLoop(r, { prompt: 'Move' }, { tools: [MOVE], canRun: () => false, runTool: async () => 'never' });
    assert.equal(out.kind, 'calls');
    assert.deepEqual(out.kind === 'calls' ? out.calls.map((c) => c.arguments) : [], [{ x: 1 }]);
  });

  test('tool_choice required: a reply without a call gets a repair round, then the call runs; still none: TOOL_NOT_CALLED', async () => {
    const ran: unknown[] = [];
    const runner = new ScriptedRunner(['I moved it.', call('move', { x: 3 }), 'Done.', 'No.', 'Still no.']);
    const out = await runToolLoop(runner, { prompt: 'Move to 3' }, { tools: [MOVE], toolChoice: 'required', runTool: async (c) => ran.push(c.arguments) });
    assert.equal(out.text, 'Done.');
    assert.deepEqual(ran, [{ x: 3 }]);
    assert.equal(out.stats.repairs, 1);
    assert.match(String(runner.requests[1]!.messages?.at(-1)?.content), /You must call one of the tools now/);
    assert.equal(runner.requests[2]!.toolChoice, 'auto', 'after the first round the model may answer');
    const err = await rejectsWith(runToolLoop(runner, { prompt: 'Move' }, { tools: [MOVE], toolChoice: 'required', runTool: async () => 'ok' }), 'TOOL_NOT_CALLED');
    assert.match(err.message, /did not call one of the tools .* Its reply: Still no\./);
  });

  test('a named tool choice: a call of another tool is repaired towards the named one', async () => {
    const ran: string[] = [];
    const runner = new ScriptedRunner([call('move', { x: 1 }), call('grip', { closed: true }), 'Gripped.']);
    const out = await runToolLoop(runner, { prompt: 'Grip' }, { tools: [MOVE, GRIP], toolChoice: { name: 'grip' }, runTool: async (c) => ran.push(c.name) });
    assert.equal(out.text, 'Gripped.');
    assert.deepEqual(ran, ['grip']);
    assert.match(String(runner.requests[1]!.messages?.at(-1)?.content), /You must call the tool "grip" now/);
  });

  test('after maxRounds the model must answer (tool_choice none)', async () => {
    const r = new ScriptedRunner([call('move', { x: 1 }), call('move', { x: 2 })]);
    const out = await runToolLoop(r, { prompt: 'Move' }, { tools: [MOVE], maxRounds: 1, runTool: async () => 'ok' });
    assert.equal(out.kind, 'final');
    assert.equal(r.requests[1]!.toolChoice, 'none');
  });
});
