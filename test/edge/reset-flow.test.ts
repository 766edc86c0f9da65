/**
 * msg.reset of the conversation that is live in the runtime (issue 19 item 1), in real Node-RED on
 * the simulator: the runtime is asked to reset (POST /api/reset in AX650_SIM_LOG), the next turn is
 * prefilled on the system prompt alone, and the model does not see the forgotten turns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_KIND } from '../helpers/kind';
import { startHarness, type Harness } from '../nodes/flow-harness';
import { calls, prefills, readSimLog } from './sim-log';

// These read the 2025 simulator's request log (/api/reset, reset/generate prefills): the stateful G1 runtime's
// context. The stateless axllm runtime gets the whole transcript per request; its trim and reset are checked in
// test/axllm/runtime.test.ts.
describe('msg.reset of the live conversation', { skip: TEST_KIND === 'axllm' ? 'checks the G1 runtime\'s own context (request log of the 2025 simulator)' : false }, () => {
  let h: Harness;
  const seen: string[] = [];
  before(async () => {
    // Slow enough that a reset can land while a reply is still streaming.
    h = await startHarness({ simEnv: { AX650_SIM_REPLY_TOKENS: '30', AX650_SIM_TOKENS_PER_SEC: '60' } });
    const server = h.runtime.tokenizerServer!;
    server.on('encode', (e) => seen.push(server.tokenizer.decode(e.tokenIds)));
  });
  after(async () => {
    await h.close();
  });

  let finals = 0;
  async function turn(prompt: string, conversation: string): Promise<void> {
    h.node('gen').receive({ payload: prompt, conversation });
    await h.waitFor('gen-final', ++finals);
  }

  test('the runtime is reset and the next turn starts from the system prompt alone', async () => {
    await turn('My name is Ada and my robot is called Rover.', 'c1');
    await turn('Rover has six wheels.', 'c1');
    const before = (await readSimLog(h.simLog)).length;
    h.node('gen').receive({ reset: true, conversation: 'c1' });
    assert.equal(h.runtime.conversations.get('c1'), undefined, 'the stored history is gone');
    await turn('What is my name?', 'c1');

    const log = (await readSimLog(h.simLog)).slice(before);
    assert.deepEqual(calls(log), ['POST /api/reset', 'POST /api/generate'], 'the runtime was asked to reset before the next turn');
    const [reset, generate] = prefills(log);
    assert.equal(reset!.kind, 'reset');
    assert.equal(generate!.kind, 'generate');
    assert.equal(generate!.precompute_len, reset!.tokens, 'the turn was prefilled on top of the system prompt only');
    const saw = seen[seen.length - 1]!;
    assert.match(saw, /What is my name\?/);
    assert.doesNotMatch(saw, /Ada|Rover/, 'the model did not see the forgotten turns');
    assert.deepEqual(h.runtime.conversations.get('c1')!.turns.map((t) => t.role), ['user', 'assistant'], 'a new history of one exchange');
  });

  test('a reset during the conversation\'s own turn: that turn is not kept and the next one starts afresh', async () => {
    h.node('gen').receive({ payload: 'Remember the code word: PELICAN.', conversation: 'c2' });
    await h.waitFor('gen-stream', (h.received.get('gen-stream')?.length ?? 0) + 1);
    assert.equal(h.runtime.info().running, true, 'the reply is still streaming');
    h.node('gen').receive({ reset: true, conversation: 'c2' });
    await h.waitFor('gen-final', ++finals);
    await turn('What was the code word?', 'c2');
    const saw = seen[seen.length - 1]!;
    assert.doesNotMatch(saw, /PELICAN/, 'the model did not see the turn that was reset');
    assert.equal(h.runtime.conversations.get('c2')!.turns.length, 2);
  });

  test('resetting another conversation leaves the live one alone: no reset, the next turn continues it', async () => {
    await turn('The battery is at 80 percent.', 'c3');
    const before = (await readSimLog(h.simLog)).length;
    h.node('gen').receive({ reset: true, conversation: 'someone-else' });
    await turn('And the battery?', 'c3');
    const log = (await readSimLog(h.simLog)).slice(before);
    assert.deepEqual(calls(log), ['POST /api/generate'], 'no reset, no re-prefill');
    assert.match(seen[seen.length - 1]!, /80 percent/);
  });
});
