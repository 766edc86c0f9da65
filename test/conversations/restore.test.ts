/**
 * Conversations that survive switching (issue 5), on the simulator with the built-in tokenizer.
 * The vendor sequence this relies on (gregm123456/ax-llm @086f4e6, main_api.cpp + LLM.hpp, and the
 * vendor qwen3_tokenizer_uid.py): POST /api/reset → tokenizer /reset {uid, system_prompt} → the
 * returned token_ids are prefilled (GenerateKVCachePrefill) and become precompute_len; the next
 * POST /api/generate → tokenizer /encode {uid, text, last_reply} → only `diff` is prefilled on top.
 * The built-in tokenizer returns the restored history in the reset and ignores the stale last_reply
 * of the first encode after it (lib/tokenizer/session.ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asLivedTurn } from '../../lib/tokenizer/session';
import type { ChatMessage, JobRequest, JobResult } from '../../lib/runtime/types';
import { startSimRuntime, type SimRuntime } from '../runtime/helpers';

interface ResetEvent { uid: string; tokenIds: number[]; restored: boolean }
interface EncodeEvent { uid: string; tokenIds: number[]; diff: number[] }

function run(s: SimRuntime, req: JobRequest): Promise<JobResult> {
  return s.rt.submit(req).result;
}

describe('conversation restore', () => {
  const started: SimRuntime[] = [];
  after(async () => {
    for (const s of started) await s.stop();
  });

  test('A, B, A: the switch back prefills exactly A\'s templated history; A\'s next turn is a continuation', async () => {
    const s = await startSimRuntime({ simEnv: { AX650_SIM_REPLY_TOKENS: '24' } });
    started.push(s);
    const server = s.rt.tokenizerServer!;
    const tok = server.tokenizer;
    const system = s.cfg.systemPrompt;
    await run(s, { prompt: 'Hello, I am Ada.', conversation: 'A' });
    await run(s, { prompt: 'What is my name?', conversation: 'A' });
    await run(s, { prompt: 'I am Bob, a different user.', conversation: 'B' });
    const resets: ResetEvent[] = [];
    const encodes: EncodeEvent[] = [];
    server.on('reset', (e) => resets.push(e));
    server.on('encode', (e) => encodes.push(e));
    const logBefore = (await s.readSimLog()).length;
    const result = await run(s, { prompt: 'And what did I tell you first?', conversation: 'A' });
    assert.equal(result.stats.historyDropped, undefined);

    const turns = s.rt.conversations.get('A')!.turns;
    assert.equal(turns.length, 6, 'three exchanges kept');
    const history = turns.slice(0, 4);
    const lived: ChatMessage[] = [{ role: 'system', content: system }, ...history.map(asLivedTurn)];
    const expectedReset = tok.encode(tok.applyChatTemplate(lived, true)).slice(0, -3);
    assert.equal(resets.length, 1);
    assert.equal(resets[0]!.restored, true);
    assert.deepEqual(resets[0]!.tokenIds, expectedReset, 'reset returns A\'s templated history');

    const prefills = (await s.readSimLog()).slice(logBefore).filter((e) => (e as { event: string }).event === 'prefill') as Array<{ kind: string; tokens: number; precompute_len: number }>;
    assert.equal(prefills[0]!.kind, 'reset');
    assert.equal(prefills[0]!.tokens, expectedReset.length, 'the runtime prefilled that many tokens');

    const full = tok.encode(tok.applyChatTemplate([...lived, asLivedTurn({ role: 'user', content: 'And what did I tell you first?' })], true));
    assert.equal(encodes.length, 1);
    assert.deepEqual(encodes[0]!.diff, full.slice(expectedReset.length), 'diff = the new user turn + generation prompt only');
    assert.equal(prefills[1]!.kind, 'generate');
    assert.equal(prefills[1]!.tokens, full.length - expectedReset.length);
  });

  test('a 6-message transcript puts the same tokens in the context as living those turns one by one', async () => {
    const s = await startSimRuntime({ simEnv: { AX650_SIM_REPLY_TOKENS: '16' } });
    started.push(s);
    const server = s.rt.tokenizerServer!;
    const prompts = ['Name three rivers.', 'Which is longest?', 'How long is it?'];
    for (const p of prompts) await run(s, { prompt: p, conversation: 'lived' });
    const lived = s.rt.conversations.get('lived')!.turns.map((t) => ({ ...t }));
    assert.equal(lived.length, 6);
    const encodes: EncodeEvent[] = [];
    server.on('encode', (e) => encodes.push(e));
    await run(s, { prompt: 'Thanks!', conversation: 'lived' });
    await run(s, { prompt: 'Something unrelated.' });
    await run(s, { prompt: 'Thanks!', messages: [...lived, { role: 'user', content: 'Thanks!' }] });
    assert.equal(encodes.length, 3);
    assert.deepEqual(encodes[2]!.tokenIds, encodes[0]!.tokenIds, 'same full context before the reply');
    assert.ok(encodes[2]!.tokenIds.length > 60);
  });
});
