/**
 * Issue #15 in real Node-RED: msg.tools and msg.format on ax650-generate, over the simulator's
 * scripted model (AX650_SIM_TOOL_SCRIPT / AX650_SIM_REPLY_SCRIPT). Output 1 never carries tool markup:
 * every test of every suite ends by checking all the stream messages so far (the afterEach hooks).
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assertNoToolMarkup, startHarness, type Harness } from './flow-harness';
import { toolNodes } from '../helpers/nr';
import { repoRoot } from '../helpers/node-red-process';
import type { NodeMessage } from '../../nodes/red-types';


const MOVE = { type: 'function', function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } };
const TOOL_SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 1 } }] },
  { raw: '<tool_call>\n{"name": "move", "arguments": {"x": \n</tool_call>' },
  { raw: '<tool_call>\n{"name": "move", "arguments": {}}\n</tool_call>' },
];
const SCHEMA = { type: 'object', properties: { action: { type: 'string' }, speed: { type: 'number' } }, required: ['action', 'speed'] };
const REPLY_SCRIPT = ['{"action": "go", "speed": 1}', 'not json', '{"action": "go", "speed": 2}', 'no', 'still no'];

describe('ax650-generate with msg.tools and msg.format', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT), AX650_SIM_REPLY_SCRIPT: JSON.stringify(REPLY_SCRIPT) } });
  });
  afterEach(() => assertNoToolMarkup(h.received.get('gen-stream')!));
  after(async () => {
    await h.close();
  });

  test('a tool call without a tool node goes out on output 2 as msg.toolCalls; no markup on output 1', async () => {
    h.node('gen').receive({ payload: 'Move the arm', tools: [MOVE] });
    const [final] = await h.waitFor('gen-final', 1);
    const calls = (final as NodeMessage & { toolCalls: Array<{ name: string; arguments: unknown }> }).toolCalls;
    assert.deepEqual(calls.map((c) => [c.name, c.arguments]), [['move', { x: 1 }]]);
    for (const m of h.received.get('gen-stream')!) assert.doesNotMatch(String(m.payload), /"name"/);
  });

  test('a malformed call and an invalid repair reach Catch as TOOL_ARGS_INVALID', async () => {
    h.node('gen').receive({ payload: 'Move', tools: [MOVE] });
    const [caught] = await h.waitFor('caught', 1);
    assert.equal((caught!.error as { code?: string }).code, 'TOOL_ARGS_INVALID');
  });

  test('JSON schema: valid, invalid-then-repaired, still invalid (SCHEMA_MISMATCH with the raw text)', async () => {
    h.node('gen').receive({ payload: 'Go', format: SCHEMA });
    h.node('gen').receive({ payload: 'Go', format: SCHEMA });
    const finals = await h.waitFor('gen-final', 3);
    assert.deepEqual(finals[1]!.payload, { action: 'go', speed: 1 });
    assert.deepEqual(finals[2]!.payload, { action: 'go', speed: 2 });
    h.node('gen').receive({ payload: 'Go', format: SCHEMA });
    const caught = await h.waitFor('caught', 2);
    const err = caught[1]!.error as { code?: string; message: string };
    assert.equal(err.code, 'SCHEMA_MISMATCH');
    assert.match(err.message, /still no/);
  });

  test('a bad format is BAD_INPUT', async () => {
    h.node('gen').receive({ payload: 'Go', format: 'yaml' });
    const caught = await h.waitFor('caught', 3);
    assert.equal((caught[2]!.error as { code?: string }).code, 'BAD_INPUT');
  });
});

const GRIP = { type: 'function', function: { name: 'grip', parameters: { type: 'object', properties: { closed: { type: 'boolean' } }, required: ['closed'] } } };
const ARM_SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 'left' } }] },
  { calls: [{ name: 'move', arguments: { x: 1 } }, { name: 'grip', arguments: { closed: true } }] },
  { text: 'Done: moved and gripped.' },
  // Two rounds: move, its branch answers, then grip (the model saw move's result), its branch answers, then the answer.
  { calls: [{ name: 'move', arguments: { x: 3 } }] },
  { calls: [{ name: 'grip', arguments: { closed: false } }] },
  { text: 'The cup is at 3 and let go.' },
  { calls: [{ name: 'move', arguments: { x: 2 } }] },
  { text: 'Next answer.' },
  { calls: [{ name: 'fly', arguments: {} }] },
];

type ArmStats = { toolCalls: Array<{ name: string; arguments: unknown; result: unknown }>; rounds: number; repairs: number };

describe('ax650-tool and ax650-tool-result branches', () => {
  let h: Harness;
  let answering = true;
  before(async () => {
    h = await startHarness({
      simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(ARM_SCRIPT) },
      generators: [{ id: 'gen', toolbox: 'arm', toolTimeout: 1 }],
      extraModules: toolNodes(),
      extraNodes: [
        { id: 'move', z: 'tab', type: 'ax650-tool', toolName: 'move', description: 'Move the arm', schema: JSON.stringify(MOVE.function.parameters), toolbox: 'arm', wires: [['branch']] },
        { id: 'grip', z: 'tab', type: 'ax650-tool', toolName: 'grip', schema: JSON.stringify(GRIP.function.parameters), toolbox: 'arm', wires: [['branch']] },
        { id: 'branch', z: 'tab', type: 'helper' },
        { id: 'result', z: 'tab', type: 'ax650-tool-result' },
        // A second "move" in the toolbox: the first one keeps the name, this one is never called.
        { id: 'move-again', z: 'tab', type: 'ax650-tool', toolName: 'move', schema: '{"type":"object"}', toolbox: 'arm', wires: [['other-arm']] },
        { id: 'other-arm', z: 'tab', type: 'helper' },
      ],
    });
    // The branch: answers each call with where the arm went, until a test stops it answering.
    h.node('branch').on('input', (msg: NodeMessage) => {
      if (answering) h.node('result').receive({ ...msg, payload: { ok: true, at: (msg.payload as { x?: number }).x ?? null } });
    });
  });
  afterEach(() => assertNoToolMarkup(h.received.get('gen-stream')!));
  after(async () => {
    await h.close();
  });

  test('invalid arguments are repaired; two tools in one round, the final answer with stats.toolCalls', async () => {
    // From a Dashboard 2 page: the branches get its _client, so what they show goes back to that page.
    h.node('gen').receive({ payload: 'Pick up the cup', _client: { socketId: 'page-1' } });
    const [final] = await h.waitFor('gen-final', 1);
    assert.equal(final!.payload, 'Done: moved and gripped.');
    const stats = final!.stats as ArmStats;
    assert.deepEqual(stats.toolCalls.map((c) => [c.name, c.arguments]), [['move', { x: 1 }], ['grip', { closed: true }]]);
    // The repair round is not a tool round: one round ran both calls.
    assert.deepEqual([stats.rounds, stats.repairs], [1, 1]);
    const branch = h.received.get('branch')!;
    assert.deepEqual(branch.map((m) => m.payload), [{ x: 1 }, { closed: true }]);
    assert.deepEqual((branch[0] as NodeMessage & { toolCall: { name: string } }).toolCall.name, 'move');
    assert.deepEqual(branch.map((m) => (m as NodeMessage & { _client?: unknown })._client), [{ socketId: 'page-1' }, { socketId: 'page-1' }]);
  });

  test('two rounds: move, its result, then grip, its result, then the final answer on outputs 1 and 2', async () => {
    h.node('gen').receive({ payload: 'Put the cup at 3 and let go' });
    const finals = await h.waitFor('gen-final', 2);
    const final = finals[1]!;
    assert.equal(final.payload, 'The cup is at 3 and let go.');
    // Output 1: the stream a join node rebuilds (the first test's reply was the first one).
    const joined = await h.waitFor('joined', 2);
    assert.equal(joined[1]!.payload, 'The cup is at 3 and let go.');
    const stats = final.stats as ArmStats;
    assert.deepEqual(stats.toolCalls.map((c) => [c.name, c.arguments, c.result]), [
      ['move', { x: 3 }, { ok: true, at: 3 }],
      ['grip', { closed: false }, { ok: true, at: null }],
    ]);
    assert.deepEqual([stats.rounds, stats.repairs], [2, 0]);
    assert.deepEqual(h.received.get('branch')!.slice(2).map((m) => m.payload), [{ x: 3 }, { closed: false }]);
  });

  test('a branch that never answers: TOOL_TIMEOUT, and the next prompt is answered', async () => {
    answering = false;
    h.node('gen').receive({ payload: 'Move again' });
    const [caught] = await h.waitFor('caught', 1);
    assert.equal((caught!.error as { code?: string }).code, 'TOOL_TIMEOUT');
    h.node('gen').receive({ payload: 'And now?' });
    const finals = await h.waitFor('gen-final', 3);
    assert.equal(finals[2]!.payload, 'Next answer.');
  });

  test('an unknown tool: TOOL_UNKNOWN', async () => {
    h.node('gen').receive({ payload: 'Fly' });
    const caught = await h.waitFor('caught', 2);
    assert.equal((caught[1]!.error as { code?: string }).code, 'TOOL_UNKNOWN');
  });

  test('a second tool node of the same name says so and is never called', () => {
    // (The test helper's RED._ returns the key: the sentence is locales/*/ax650-tool.json's errors.duplicate.)
    assert.deepEqual(h.errorsOf('move-again'), ['ax650-tool.errors.duplicate']);
    assert.deepEqual(h.errorsOf('move'), []);
    assert.equal(h.received.get('other-arm')!.length, 0, 'every call of "move" went to the first tool node');
    assert.ok(h.received.get('branch')!.length >= 4);
  });

  test('msg.tools cannot replace a tool node of the toolbox: BAD_INPUT, and its branch never fires', async () => {
    const branchCalls = h.received.get('branch')!.length;
    // A looser "move" (x any string) would let {"x": "left"} through to the arm if it replaced the tool node's schema.
    const looseMove = { type: 'function', function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'string' } } } } };
    h.node('gen').receive({ payload: 'Move left', tools: [looseMove] });
    const caught = await h.waitFor('caught', 3);
    const err = caught[2]!.error as { code?: string; message: string };
    assert.equal(err.code, 'BAD_INPUT');
    // The test helper loads no message catalogs (its RED._ returns the key): the sentence a user reads is the catalog's.
    assert.match(err.message, /ax650-generate\.errors\.tool-clash$/);
    const sentence = (lang: string) => {
      const cat = JSON.parse(readFileSync(path.join(repoRoot, 'locales', lang, 'ax650-generate.json'), 'utf8')) as { 'ax650-generate': { errors: Record<string, string> } };
      return cat['ax650-generate'].errors['tool-clash']!.replace(/__(\w+)__/g, (_, k: string) => ({ name: 'move', toolbox: 'arm' })[k] ?? '?');
    };
    assert.match(sentence('en-US'), /^msg\.tools offers the tool "move", but the toolbox "arm" has a tool node of that name/);
    assert.match(sentence('zh-CN'), /“move”.*“arm”/);
    assert.equal(h.received.get('branch')!.length, branchCalls);
  });
});

// The model calls "move" in every round it may: after max rounds (2 here) it is asked with tool_choice "none"
// and still writes a call around its answer; that call must not run, nor reach the answer.
const KEEPS_CALLING = [
  { calls: [{ name: 'move', arguments: { x: 1 } }] },
  { calls: [{ name: 'move', arguments: { x: 2 } }] },
  { text: 'Next answer.' },
];
const LAST_WORD = 'I moved twice; moving on.';
const LAST_REPLY = `${LAST_WORD}\n<tool_call>\n{"name": "move", "arguments": {"x": 3}}\n</tool_call>`;

describe('the tool loop is bounded by max rounds', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(KEEPS_CALLING), AX650_SIM_REPLY_SCRIPT: JSON.stringify([LAST_REPLY]) },
      generators: [{ id: 'gen', toolbox: 'arm', maxRounds: 2 }],
      extraModules: toolNodes(),
      extraNodes: [
        { id: 'move', z: 'tab', type: 'ax650-tool', toolName: 'move', schema: JSON.stringify(MOVE.function.parameters), toolbox: 'arm', wires: [['branch']] },
        { id: 'branch', z: 'tab', type: 'helper' },
        { id: 'result', z: 'tab', type: 'ax650-tool-result' },
      ],
    });
    h.node('branch').on('input', (msg: NodeMessage) => h.node('result').receive({ ...msg, payload: { ok: true } }));
  });
  afterEach(() => assertNoToolMarkup(h.received.get('gen-stream')!));
  after(async () => {
    await h.close();
  });

  test('past max rounds the model must answer: its extra call never runs, the answer has no markup, the next prompt is answered', async () => {
    h.node('gen').receive({ payload: 'Keep moving the arm' });
    const [final] = await h.waitFor('gen-final', 1);
    assert.equal(final!.payload, LAST_WORD);
    const stats = final!.stats as ArmStats;
    assert.deepEqual(stats.toolCalls.map((c) => [c.name, c.arguments]), [['move', { x: 1 }], ['move', { x: 2 }]]);
    assert.equal(stats.rounds, 2);
    assert.deepEqual(h.received.get('branch')!.map((m) => m.payload), [{ x: 1 }, { x: 2 }], 'the call after max rounds never reached the arm');
    const [joined] = await h.waitFor('joined', 1);
    assert.equal(String(joined!.payload).trim(), LAST_WORD);
    assert.deepEqual(h.received.get('caught'), []);

    h.node('gen').receive({ payload: 'And now?' });
    const finals = await h.waitFor('gen-final', 2);
    assert.equal(finals[1]!.payload, 'Next answer.');
    assert.equal(h.received.get('branch')!.length, 2);
  });
});
