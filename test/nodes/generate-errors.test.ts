/**
 * Bad input to ax650-generate (issue 4): each case reaches a Catch node with a stable code and a
 * sentence naming what is wrong, nothing is sent on the outputs, and a good prompt right after works.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './flow-harness';
import type { NodeMessage } from '../../nodes/red-types';

const long = 'word '.repeat(3000);

const cases: Array<{ name: string; msg: NodeMessage; code: string; mentions: RegExp }> = [
  { name: 'number payload', msg: { payload: 42 }, code: 'BAD_INPUT', mentions: /payload/ },
  { name: 'empty prompt', msg: { payload: '' }, code: 'BAD_INPUT', mentions: /empty/ },
  { name: 'whitespace prompt', msg: { payload: '   \n ' }, code: 'BAD_INPUT', mentions: /empty/ },
  { name: '1 MB prompt', msg: { payload: 'x'.repeat(1024 * 1024) }, code: 'CONTEXT_FULL', mentions: /characters/ },
  { name: 'prompt longer than the context', msg: { payload: long }, code: 'CONTEXT_FULL', mentions: /tokens/ },
  { name: 'object payload without prompt text', msg: { payload: { prompt: 42 } }, code: 'BAD_INPUT', mentions: /payload/ },
  { name: 'NaN temperature', msg: { payload: 'hi', options: { temperature: NaN } }, code: 'BAD_INPUT', mentions: /temperature/ },
  { name: 'negative temperature', msg: { payload: 'hi', options: { temperature: -1 } }, code: 'BAD_INPUT', mentions: /temperature/ },
  { name: 'string temperature', msg: { payload: 'hi', options: { temperature: '0.7' } }, code: 'BAD_INPUT', mentions: /temperature/ },
  { name: 'fractional top_k', msg: { payload: 'hi', options: { top_k: 1.5 } }, code: 'BAD_INPUT', mentions: /top_k/ },
  { name: 'top_p above 1', msg: { payload: 'hi', options: { top_p: 2 } }, code: 'BAD_INPUT', mentions: /top_p/ },
  { name: 'max_tokens 0', msg: { payload: 'hi', options: { max_tokens: 0 } }, code: 'BAD_INPUT', mentions: /max_tokens/ },
  { name: 'unknown option key', msg: { payload: 'hi', options: { temprature: 0.5 } }, code: 'BAD_INPUT', mentions: /temprature/ },
  { name: 'options is an array', msg: { payload: 'hi', options: [1, 2] }, code: 'BAD_INPUT', mentions: /options/ },
  { name: 'think not boolean', msg: { payload: 'hi', options: { think: 'yes' } }, code: 'BAD_INPUT', mentions: /think/ },
  { name: 'numeric conversation', msg: { payload: 'hi', conversation: 123 }, code: 'BAD_INPUT', mentions: /conversation/ },
  { name: 'empty conversation', msg: { payload: 'hi', conversation: '' }, code: 'BAD_INPUT', mentions: /conversation/ },
  { name: 'string priority', msg: { payload: 'hi', priority: 'high' }, code: 'BAD_INPUT', mentions: /priority/ },
  { name: 'negative timeout', msg: { payload: 'hi', timeout: -5 }, code: 'BAD_INPUT', mentions: /timeout/ },
  { name: 'unknown timeout key', msg: { payload: 'hi', timeout: { first: 100 } }, code: 'BAD_INPUT', mentions: /timeout/ },
  { name: 'messages not an array', msg: { payload: 'hi', messages: 'hello' }, code: 'BAD_INPUT', mentions: /messages/ },
  { name: 'message with unknown role', msg: { payload: 'hi', messages: [{ role: 'robot', content: 'x' }] }, code: 'BAD_INPUT', mentions: /role/ },
  { name: 'system not a string', msg: { payload: 'hi', system: 42 }, code: 'BAD_INPUT', mentions: /system/ },
  { name: 'reset not true', msg: { reset: 'yes', conversation: 'c' }, code: 'BAD_INPUT', mentions: /reset/ },
];

describe('ax650-generate bad input', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  test(`${cases.length} bad inputs each reach Catch with a clear code; a good prompt after works`, async () => {
    assert.ok(cases.length >= 15);
    const gen = h.node('gen');
    const statuses: string[] = [];
    gen.on('call:status', (call) => statuses.push(String((call.args[0] as { text?: string }).text ?? '')));
    for (const [i, c] of cases.entries()) {
      gen.receive({ ...c.msg, topic: `case-${i}` });
      const caught = await h.waitFor('caught', i + 1);
      const err = caught[i]!.error as { message: string; code?: string; source: { id: string } };
      assert.equal(caught[i]!.topic, `case-${i}`, `${c.name}: the failing msg is the one caught`);
      assert.equal(err.source.id, 'gen');
      assert.equal((err as { code?: string }).code ?? codeOf(err.message), c.code, `${c.name}: code`);
      assert.match(err.message, c.mentions, `${c.name}: message "${err.message}" names the problem`);
      assert.ok(err.message.length > 15, `${c.name}: a sentence`);
    }
    // (The test helper loads no message catalogs, so the text is the i18n key here; the editor test sees it translated.)
    assert.ok(statuses.some((t) => /error/.test(t)), `the status shows the error (${statuses.slice(0, 3).join(' | ')})`);
    assert.equal(h.received.get('gen-stream')!.length, 0, 'nothing streamed');
    assert.equal(h.received.get('gen-final')!.length, 0, 'nothing final');
    gen.receive({ payload: 'And now a good question?', topic: 'good' });
    const [final] = await h.waitFor('gen-final', 1);
    assert.equal(final!.topic, 'good');
    assert.ok((final!.payload as string).length > 0);
  });
});

function codeOf(message: string): string {
  return message;
}
