/**
 * Tools through the built-in tokenizer (the G1 runtime kind): the context's system turn carries the chat
 * template's tools block, a tool round's results become the `<tool_response>` user turn, and a restored
 * history with a tool round renders exactly as the template does. The golden text is what Qwen's chat
 * template (qwen2.5_tokenizer, the same tools branches as Qwen3's) writes for this transcript in transformers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChatMessage } from '../../lib/runtime/types';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { isAx650Error } from '../../lib/errors';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';
import { CALL_TEXT, CALL_TURN_TEXT, RESPONSE_TEXT, RESULTS, SYSTEM, SYSTEM_TEXT, TOOLS } from '../helpers/qwen-tools-golden';

const USER_TEXT = '<|im_start|>user\nMove to x=1/no_think<|im_end|>\n';
const GEN = '<|im_start|>assistant\n';

describe('tools through the built-in tokenizer', () => {
  let server: TokenizerServer;
  let cleanup: () => Promise<void>;
  before(async () => {
    const model = await makeTokenizerModelDir();
    cleanup = model.cleanup;
    server = await startTokenizerServer({ modelDir: model.dir, port: 0 });
  });
  after(async () => {
    await server.close();
    await cleanup();
  });

  async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) });
    return (await res.json()) as Record<string, unknown>;
  }
  async function uid(): Promise<string> {
    const res = await fetch(server.url + '/get_uid');
    return String(((await res.json()) as { uid: string }).uid);
  }
  const ids = (text: string): number[] => server.tokenizer.encode(text);

  it('renders the golden text for a tools + tool-response transcript', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'Move to x=1/no_think' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'move', arguments: { x: 1 }, raw: '{"name": "move", "arguments": {"x": 1}}' }] },
      ...RESULTS,
    ];
    assert.equal(server.tokenizer.applyChatTemplate(messages, true, TOOLS), SYSTEM_TEXT + USER_TEXT + CALL_TURN_TEXT + RESPONSE_TEXT + GEN);
  });

  it('a live tool round: reset with tools, the call as last_reply, the results as the next turn', async () => {
    const u = await uid();
    server.setNextResetHistory([], TOOLS);
    const reset = await post('/reset', { uid: u, system_prompt: SYSTEM });
    assert.deepEqual(reset['token_ids'], ids(SYSTEM_TEXT));
    const first = await post('/encode', { uid: u, text: 'Move to x=1', last_reply: 'stale reply of the context before' });
    assert.deepEqual(first['diff'], ids(USER_TEXT + GEN));
    server.setNextToolResults(RESULTS);
    const second = await post('/encode', { uid: u, text: 'ignored', last_reply: CALL_TEXT });
    assert.deepEqual(second['token_ids'], ids(SYSTEM_TEXT + USER_TEXT + CALL_TURN_TEXT + RESPONSE_TEXT + GEN));
    assert.deepEqual(second['diff'], ids(RESPONSE_TEXT + GEN), 'only the tool responses are prefilled on top of the live context');
    const third = await post('/encode', { uid: u, text: 'Thanks', last_reply: 'The arm is at x=1.' });
    const full = ids(SYSTEM_TEXT + USER_TEXT + CALL_TURN_TEXT + RESPONSE_TEXT + '<|im_start|>assistant\nThe arm is at x=1.<|im_end|>\n<|im_start|>user\nThanks/no_think<|im_end|>\n' + GEN);
    assert.deepEqual(third['token_ids'], full, 'the tools block stays in the context after the tool round');
  });

  it('restores a history with a tool round exactly as the live turns left it', async () => {
    const u = await uid();
    server.setNextResetHistory(
      [
        { role: 'user', content: 'Move to x=1' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'move', arguments: { x: 1 }, raw: '{"name": "move", "arguments": {"x": 1}}' }] },
        ...RESULTS,
        { role: 'assistant', content: 'The arm is at x=1.' },
      ],
      TOOLS,
    );
    const reset = await post('/reset', { uid: u, system_prompt: SYSTEM });
    assert.deepEqual(reset['token_ids'], ids(SYSTEM_TEXT + USER_TEXT + CALL_TURN_TEXT + RESPONSE_TEXT + '<|im_start|>assistant\nThe arm is at x=1.<|im_end|>\n'));
  });

  it('refuses a restored history out of order, and tool results that are not tool turns', () => {
    const call: ChatMessage = { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'move', arguments: {}, raw: '{}' }] };
    assert.throws(() => server.setNextResetHistory([{ role: 'user', content: 'go' }, call, { role: 'tool', content: 'ok' }], TOOLS), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT' && /end with an assistant turn/.test(e.message));
    assert.throws(() => server.setNextResetHistory([{ role: 'user', content: 'go' }, { role: 'assistant', content: 'x' }, { role: 'tool', content: 'ok' }, { role: 'assistant', content: 'y' }]), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT');
    assert.throws(() => server.setNextResetHistory([{ role: 'tool', content: 'x' }]), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT');
    assert.throws(() => server.setNextToolResults([{ role: 'user', content: 'x' }]), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT');
  });
});
