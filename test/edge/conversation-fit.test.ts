/**
 * The contract of the pure conversation fit (lib/runtime/conversation-fit.ts) that every runtime
 * kind relies on, with a counter whose numbers are easy to follow: each message costs its number of
 * words plus 4 template tokens, and the generation prompt 3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contextFullError, fitConversation, inputLimitFor, MARGIN, TRIM_TO, type ConversationCounter } from '../../lib/runtime/conversation-fit';
import type { ChatMessage } from '../../lib/runtime/types';

const cost = (text: string): number => text.split(/\s+/).filter(Boolean).length + 4;
const counter: ConversationCounter = {
  prefix: (system, turns) => cost(system) + turns.reduce((n, t) => n + cost(t.content), 0),
  total: (system, turns, input) => counter.prefix(system, turns) + (typeof input === 'string' ? cost(input) : input.reduce((n, t) => n + cost(t.content), 0)) + 3,
};
const words = (n: number, tag: string): string => Array.from({ length: n }, () => tag).join(' ');
const exchange = (i: number, n: number): ChatMessage[] => [
  { role: 'user', content: words(n, `u${i}`) },
  { role: 'assistant', content: words(n, `a${i}`) },
];
const SYSTEM = words(20, 'sys');

test('rule 2 alone refuses a turn whose total fits: the oldest exchanges go until the input fits ALIGN_DOWN(max − prefix, 128)', () => {
  // Prefix 24 + 2·(2·126) + 16 = 544: the total with a 46-token turn is 590 ≤ 640, but ALIGN_DOWN(96, 128) = 0.
  const turns = [...exchange(0, 122), ...exchange(1, 122)];
  const limits = { prefillMaxTokenNum: 640, maxTokenLen: 4096, replyReserve: 0 };
  assert.ok(counter.total(SYSTEM, turns, words(39, 'p')) + MARGIN <= 640, 'the total fits');
  const fit = fitConversation(counter, SYSTEM, turns, words(39, 'p'), limits);
  assert.equal(fit.fits, true);
  assert.equal(fit.droppedTurns, 1);
  assert.deepEqual(fit.turns, turns.slice(2), 'the newest exchange is kept');
  assert.equal(fit.inputTokens, 46);
  assert.equal(fit.inputLimit, inputLimitFor(fit.prefixTokens, 640));
  assert.ok(fit.inputTokens <= fit.inputLimit && fit.prefixTokens + fit.inputTokens <= 640);
  assert.equal(fit.droppedTokens, 252);
});

test('nothing is dropped while both rules hold and the reply has room', () => {
  const turns = [...exchange(0, 10), ...exchange(1, 10)];
  const fit = fitConversation(counter, SYSTEM, turns, 'hello', { prefillMaxTokenNum: 2048, maxTokenLen: 2559, replyReserve: 512 });
  assert.deepEqual(fit, { ...fit, turns, droppedTurns: 0, droppedTokens: 0, fits: true });
});

test('short reply room drops old exchanges but keeps the last one: an answer with context beats a longer one without', () => {
  const turns = [...exchange(0, 50), ...exchange(1, 50), ...exchange(2, 50)];
  const fit = fitConversation(counter, SYSTEM, turns, 'next?', { prefillMaxTokenNum: 2048, maxTokenLen: 300, replyReserve: 200 });
  assert.equal(fit.fits, true);
  assert.deepEqual(fit.turns, turns.slice(4));
  assert.equal(fit.droppedTurns, 2);
});

test('a history that starts with a reply is dropped a message at a time, so what is kept still alternates', () => {
  const turns: ChatMessage[] = [{ role: 'assistant', content: words(300, 'x') }, ...exchange(1, 10)];
  const fit = fitConversation(counter, SYSTEM, turns, 'q', { prefillMaxTokenNum: 256, maxTokenLen: 4096, replyReserve: 0 });
  assert.deepEqual(fit.turns, turns.slice(1));
  assert.equal(fit.droppedTurns, 1);
});

test('a prompt that cannot fit alone: fits false with every turn dropped, and one CONTEXT_FULL sentence with the numbers', () => {
  const fit = fitConversation(counter, SYSTEM, exchange(0, 5), words(600, 'p'), { prefillMaxTokenNum: 300, maxTokenLen: 4096, replyReserve: 0 });
  assert.equal(fit.fits, false);
  assert.deepEqual(fit.turns, []);
  const err = contextFullError(fit);
  assert.equal(err.code, 'CONTEXT_FULL');
  assert.match(err.message, new RegExp(`needs ${fit.inputTokens} tokens .* at most ${fit.inputLimit} new tokens .*context limit 300 tokens`));
  assert.deepEqual(err.params, { tokens: fit.inputTokens, limit: fit.inputLimit, prefix: fit.prefixTokens, context: 300 });
});

test('once history must go, it goes down to TRIM_TO of the context, so the next turns need no reset', () => {
  const turns = Array.from({ length: 6 }, (_, i) => exchange(i, 50)).flat();
  const limits = { prefillMaxTokenNum: 640, maxTokenLen: 4096, replyReserve: 0 };
  const fit = fitConversation(counter, SYSTEM, turns, 'and now?', limits);
  const used = fit.prefixTokens + fit.inputTokens;
  assert.ok(used <= 640 * TRIM_TO, `${used} tokens after the trim`);
  const oneMore = fitConversation(counter, SYSTEM, turns.slice(2 * fit.droppedTurns - 2), 'and now?', { ...limits, prefillMaxTokenNum: 100_000 });
  assert.ok(oneMore.prefixTokens + oneMore.inputTokens > 640 * TRIM_TO, 'not one exchange more than needed was dropped');
  assert.deepEqual(fitConversation(counter, SYSTEM, turns.slice(0, 4), 'and now?', limits).droppedTurns, 0, 'below the limit nothing goes, even above TRIM_TO');
});

test('what the runtime reports its live context holds counts when it is more than the template count', () => {
  const turns = [...exchange(0, 100), ...exchange(1, 100)];
  const limits = { prefillMaxTokenNum: 640, maxTokenLen: 4096, replyReserve: 0 };
  assert.equal(fitConversation(counter, SYSTEM, turns, 'next', limits).droppedTurns, 0, 'by count it fits');
  const held = fitConversation(counter, SYSTEM, turns, 'next', limits, 600);
  assert.equal(held.droppedTurns > 0, true, 'the live context holds more (think blocks): trimmed');
  assert.equal(fitConversation(counter, SYSTEM, turns, 'next', limits, 10).prefixTokens, counter.prefix(SYSTEM, turns) + MARGIN, 'a smaller report does not lower the count');
});
