/**
 * msg.reset of the conversation that is live in the runtime (issue 19 item 1), in real Node-RED on
 * the simulator of each runtime kind: on G1 the runtime is asked to reset (POST /api/reset in
 * AX650_SIM_LOG) and the next turn is prefilled on the system prompt alone; on the stateless axllm the
 * next request's transcript is the system prompt and the new turn alone. Either way the model does not
 * see the forgotten turns.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_KIND } from '../helpers/kind';
import { startHarness, type Harness } from '../nodes/flow-harness';
import { calls, chatMessages, prefills, readSimLog, spyContexts, type ContextSpy } from './sim-log';

describe('msg.reset of the live conversation', () => {
  let h: Harness;
  let seen: ContextSpy;
  before(async () => {
    // Slow enough that a reset can land while a reply is still streaming.
    h = await startHarness({ simEnv: { AX650_SIM_REPLY_TOKENS: '30', AX650_SIM_TOKENS_PER_SEC: '60' } });
    seen = spyContexts(h);
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
    if (TEST_KIND === 'main-api') {
      assert.deepEqual(calls(log), ['POST /api/reset', 'POST /api/generate'], 'the runtime was asked to reset before the next turn');
      const [reset, generate] = prefills(log);
      assert.equal(reset!.kind, 'reset');
      assert.equal(generate!.kind, 'generate');
      assert.equal(generate!.precompute_len, reset!.tokens, 'the turn was prefilled on top of the system prompt only');
    } else {
      assert.deepEqual(calls(log), ['POST /v1/chat/completions'], 'one request, nothing else');
      const [sent] = chatMessages(log);
      assert.deepEqual(sent!.map((m) => m.role), ['system', 'user'], 'a new transcript: the system prompt and the new turn alone');
      assert.equal(sent![0]!.content, h.runtime.cfg.systemPrompt, 'the system prompt is kept');
    }
    const saw = await seen.last();
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
    const saw = await seen.last();
    assert.doesNotMatch(saw, /PELICAN/, 'the model did not see the turn that was reset');
    assert.equal(h.runtime.conversations.get('c2')!.turns.length, 2);
  });

  test('resetting another conversation leaves the live one alone: no reset, the next turn continues it', async () => {
    await turn('The battery is at 80 percent.', 'c3');
    const before = (await readSimLog(h.simLog)).length;
    h.node('gen').receive({ reset: true, conversation: 'someone-else' });
    await turn('And the battery?', 'c3');
    const log = (await readSimLog(h.simLog)).slice(before);
    assert.deepEqual(calls(log), [TEST_KIND === 'main-api' ? 'POST /api/generate' : 'POST /v1/chat/completions'], 'no reset, no re-prefill');
    assert.match(await seen.last(), /80 percent/);
  });
});
