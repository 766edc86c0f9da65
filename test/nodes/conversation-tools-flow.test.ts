/**
 * msg.conversation with tools, in real Node-RED on the kind under test: the prompt, the model's tool
 * calls, the tool results and the answer all become part of the conversation, so the next prompt's
 * context holds the tool round (axllm: the transcript in the runtime's request log; the 2025 runtime:
 * what the built-in tokenizer rendered for the runtime, live and after a restore); msg.reset forgets it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './flow-harness';
import { toolNodes } from '../helpers/nr';
import { TEST_KIND } from '../helpers/kind';
import { readSimLog } from '../edge/sim-log';
import type { NodeMessage } from '../../nodes/red-types';

const MOVE = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
const SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 1 } }] },
  { text: 'Moved the arm.' },
  { text: 'I moved the arm to x=1.' },
  { text: 'Hello from the other chat.' },
  { text: 'I still remember the move.' },
  { text: 'A fresh start.' },
  { calls: [{ name: 'move', arguments: { x: 1 } }] },
  { text: 'Moved again.' },
  { calls: [{ name: 'move', arguments: { x: 1 } }] },
];
const RESULT = 'arm-at-1';
/** The model's call as the runtime's context holds it. */
const CALL = TEST_KIND === 'axllm' ? /"tool_calls":\[\{"id":"[^"]+","type":"function","function":\{"name":"move","arguments":"\{\\"x\\": ?1\}"/ : /<tool_call>\n\{"name": "move", "arguments": \{"x": 1\}\}\n<\/tool_call>/;

/** What the model was given for its last generation: the built-in tokenizer's last encode (2025), or axllm's last request's messages. */
function contexts(h: Harness): () => Promise<string> {
  const server = h.runtime.tokenizerServer;
  if (TEST_KIND === 'main-api') {
    assert.ok(server, 'the built-in tokenizer runs');
    const seen: string[] = [];
    server.on('encode', (e) => seen.push(server.tokenizer.decode(e.tokenIds)));
    return async () => seen[seen.length - 1] ?? '';
  }
  return async () => {
    const chats = (await readSimLog(h.simLog)).flatMap((e) => (e.event === 'request' && e.path === '/v1/chat/completions' ? [e.body as { messages: unknown }] : []));
    return JSON.stringify(chats[chats.length - 1]?.messages ?? []);
  };
}

describe('msg.conversation with tools keeps the tool round in the conversation', () => {
  let h: Harness;
  /** Set: the tool branch holds its message instead of answering. */
  let hold: ((msg: NodeMessage) => void) | null = null;
  let lastContext: () => Promise<string>;
  before(async () => {
    h = await startHarness({
      simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(SCRIPT) },
      generators: [{ id: 'gen', toolbox: 'arm', toolTimeout: 5 }],
      extraModules: toolNodes(),
      extraNodes: [
        { id: 'move', z: 'tab', type: 'ax650-tool', toolName: 'move', description: 'Move the arm', schema: JSON.stringify(MOVE), toolbox: 'arm', wires: [['branch']] },
        { id: 'branch', z: 'tab', type: 'helper' },
        { id: 'result', z: 'tab', type: 'ax650-tool-result' },
      ],
    });
    h.node('branch').on('input', (msg: NodeMessage) => {
      if (hold) hold(msg);
      else h.node('result').receive({ ...msg, payload: RESULT });
    });
    lastContext = contexts(h);
  });
  after(async () => {
    await h.close();
  });

  test('the next prompt of the conversation sees the prompt, the call, the result and the answer', async () => {
    h.node('gen').receive({ payload: 'Pick up the cup', conversation: 'robot' });
    const [first] = await h.waitFor('gen-final', 1);
    assert.equal(first!.payload, 'Moved the arm.');
    assert.deepEqual((first!.stats as { toolCalls: Array<{ name: string; result: unknown }> }).toolCalls.map((c) => [c.name, c.result]), [['move', RESULT]]);

    h.node('gen').receive({ payload: 'What did you just do?', conversation: 'robot' });
    const finals = await h.waitFor('gen-final', 2);
    assert.equal(finals[1]!.payload, 'I moved the arm to x=1.');
    const seen = await lastContext();
    assert.match(seen, /Pick up the cup/);
    assert.match(seen, CALL);
    assert.match(seen, new RegExp(RESULT));
    assert.match(seen, /Moved the arm\./);
    assert.ok(seen.indexOf('Pick up the cup') < seen.indexOf(RESULT) && seen.indexOf(RESULT) < seen.indexOf('What did you just do?'), 'in the order they happened');
    assert.deepEqual(h.runtime.conversations.get('robot')!.turns.map((t) => t.role), ['user', 'assistant', 'tool', 'assistant', 'user', 'assistant']);
  });

  test('after another conversation used the runtime, the tool round comes back with the history', async () => {
    h.node('gen').receive({ payload: 'Hello', conversation: 'other' });
    await h.waitFor('gen-final', 3);
    const other = await lastContext();
    assert.doesNotMatch(other, new RegExp(RESULT), 'the other conversation does not see it');
    assert.doesNotMatch(other, CALL);
    h.node('gen').receive({ payload: 'Do you remember?', conversation: 'robot' });
    const finals = await h.waitFor('gen-final', 4);
    assert.equal(finals[3]!.payload, 'I still remember the move.');
    const seen = await lastContext();
    assert.match(seen, CALL);
    assert.match(seen, new RegExp(RESULT));
    assert.match(seen, /What did you just do\?/);
  });

  test('msg.reset forgets the tool round with the rest of the conversation', async () => {
    h.node('gen').receive({ reset: true, conversation: 'robot' });
    h.node('gen').receive({ payload: 'And now?', conversation: 'robot' });
    const finals = await h.waitFor('gen-final', 5);
    assert.equal(finals[4]!.payload, 'A fresh start.');
    const seen = await lastContext();
    assert.match(seen, /And now\?/);
    assert.doesNotMatch(seen, new RegExp(RESULT));
    assert.doesNotMatch(seen, /Pick up the cup/);
    assert.doesNotMatch(seen, CALL);
    assert.equal(h.received.get('caught')!.length, 0, 'no errors on the way');
  });

  test('a transcript with a key (msg.messages + msg.conversation) becomes the conversation, and its tool round goes on in it', async () => {
    const messages = [{ role: 'user', content: 'Earlier question' }, { role: 'assistant', content: 'Earlier answer.' }, { role: 'user', content: 'Move please' }];
    h.node('gen').receive({ payload: '', messages, conversation: 'given' });
    const finals = await h.waitFor('gen-final', 6);
    assert.equal(finals[5]!.payload, 'Moved again.');
    assert.deepEqual(h.runtime.conversations.get('given')!.turns.map((t) => t.role), ['user', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    assert.equal(h.runtime.conversations.get('given')!.turns[4]!.content, RESULT);
  });

  test('msg.reset while a tool branch runs ends that prompt with ABORTED; its result goes nowhere', async () => {
    const held = new Promise<NodeMessage>((resolve) => {
      hold = resolve;
    });
    h.node('gen').receive({ payload: 'Move once more', conversation: 'held' });
    const msg = await held;
    hold = null;
    h.node('gen').receive({ reset: true, conversation: 'held' });
    h.node('result').receive({ ...msg, payload: RESULT });
    const [caught] = await h.waitFor('caught', 1);
    assert.equal((caught!.error as { code?: string }).code, 'ABORTED');
    assert.match((caught!.error as { message: string }).message, /reset while its tools ran/);
    assert.equal(h.runtime.conversations.get('held'), undefined, 'the result did not bring the conversation back');
  });
});

const MOVE_SPEC = { type: 'function', function: { name: 'move', parameters: MOVE } };
const FLOW_SCRIPT = [{ text: 'Hi.' }, { calls: [{ name: 'move', arguments: { x: 2 } }] }, { text: 'Moved to 2.' }, { text: 'You asked me to move.' }];

describe('msg.conversation with calls the flow runs itself (msg.tools, no tool node)', () => {
  let h: Harness;
  let lastContext: () => Promise<string>;
  before(async () => {
    h = await startHarness({ simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(FLOW_SCRIPT) } });
    lastContext = contexts(h);
  });
  after(async () => {
    await h.close();
  });

  test("output 2's msg.messages is the whole conversation: sent back with the results, nothing earlier is lost", async () => {
    h.node('gen').receive({ payload: 'Hello', conversation: 'flow', tools: [MOVE_SPEC] });
    await h.waitFor('gen-final', 1);
    h.node('gen').receive({ payload: 'Move the arm', conversation: 'flow', tools: [MOVE_SPEC] });
    const [, calls] = await h.waitFor('gen-final', 2);
    const out = calls as NodeMessage & { toolCalls: Array<{ id: string; name: string }>; messages: Array<{ role: string; content: string }> };
    assert.deepEqual(out.toolCalls.map((c) => c.name), ['move']);
    assert.deepEqual(out.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant'], 'the earlier exchange is in it');
    // The flow runs the call and sends the same message back with the result, as docs/tools.md says.
    h.node('gen').receive({ ...out, payload: '', messages: [...out.messages, { role: 'tool', content: 'moved-2', toolCallId: out.toolCalls[0]!.id }] });
    const finals = await h.waitFor('gen-final', 3);
    assert.equal(finals[2]!.payload, 'Moved to 2.');
    h.node('gen').receive({ payload: 'What happened?', conversation: 'flow', tools: [MOVE_SPEC] });
    await h.waitFor('gen-final', 4);
    const seen = await lastContext();
    for (const text of ['Hello', 'Hi.', 'Move the arm', 'moved-2', 'Moved to 2.', 'What happened?']) assert.ok(seen.includes(text), `the context has "${text}"`);
    assert.equal(h.received.get('caught')!.length, 0, 'no errors on the way');
  });
});
