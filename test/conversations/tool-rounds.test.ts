/**
 * Tool rounds in a stored conversation, as a library: the context fit drops whole exchanges (a tool
 * round goes with the prompt it belongs to, never a result without its call), tool results as a
 * turn's input keep their open exchange, the store closes unanswered calls before a new prompt and
 * caps by exchanges, and a persisted store reads tool rounds back or drops them safely.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitConversation, normalizeHistory, type ConversationCounter } from '../../lib/runtime/conversation-fit';
import { ConversationStore } from '../../lib/runtime/context-tracker';
import type { ChatMessage } from '../../lib/runtime/types';

const cost = (m: ChatMessage): number => m.content.split(/\s+/).filter(Boolean).length + 4 + (m.toolCalls?.length ?? 0) * 10;
/** Each tool in the system turn's tools block costs 100 tokens. */
const counter: ConversationCounter = {
  prefix: (system, turns, tools) => system.split(' ').length + (tools?.length ?? 0) * 100 + turns.reduce((n, t) => n + cost(t), 0),
  total: (system, turns, input, tools) => counter.prefix(system, turns, tools) + (typeof input === 'string' ? cost({ role: 'user', content: input }) : input.reduce((n, t) => n + cost(t), 0)) + 3,
};
const MOVE_TOOL = { type: 'function' as const, function: { name: 'move' } };
const words = (n: number, tag: string): string => Array.from({ length: n }, () => tag).join(' ');
const call = (id: string) => ({ id, name: 'move', arguments: { x: 1 }, raw: '{"x": 1}' });
/** A prompt whose answer needed one tool round: user, assistant (call), tool, assistant. */
const toolExchange = (i: number, n: number): ChatMessage[] => [
  { role: 'user', content: words(n, `u${i}`) },
  { role: 'assistant', content: '', toolCalls: [call(`c${i}`)] },
  { role: 'tool', content: words(n, `r${i}`), toolCallId: `c${i}`, toolName: 'move' },
  { role: 'assistant', content: words(n, `a${i}`) },
];
const plain = (i: number, n: number): ChatMessage[] => [
  { role: 'user', content: words(n, `u${i}`) },
  { role: 'assistant', content: words(n, `a${i}`) },
];

/** Every kept tool result follows the assistant turn that made its call. */
function resultsHaveCalls(turns: readonly ChatMessage[]): boolean {
  return turns.every((t, i) => {
    if (t.role !== 'tool') return true;
    let j = i - 1;
    while (j >= 0 && turns[j]!.role === 'tool') j--;
    return (turns[j]?.toolCalls ?? []).some((c) => c.id === t.toolCallId);
  });
}

test('the fit drops a tool round with the prompt it belongs to, oldest exchange first', () => {
  const turns = [...toolExchange(0, 40), ...plain(1, 40), ...toolExchange(2, 40)];
  const limits = { prefillMaxTokenNum: 500, maxTokenLen: 4096, replyReserve: 0 };
  const fit = fitConversation(counter, 'sys', turns, words(40, 'p'), limits);
  assert.ok(fit.fits);
  assert.ok(fit.droppedTurns >= 1, 'something had to go');
  assert.deepEqual(fit.turns, turns.slice(turns.length - fit.turns.length), 'a suffix of the history');
  assert.equal(fit.turns[0]!.role, 'user', 'the kept history starts with a prompt, never with a call or a result');
  assert.ok(resultsHaveCalls(fit.turns));
  assert.deepEqual(fit.turns.slice(-4), toolExchange(2, 40), 'the last exchange, tool round and all, is kept');
  // Counted in exchanges: the first drop took all four turns of the tool exchange.
  assert.equal(fitConversation(counter, 'sys', turns, words(40, 'p'), { ...limits, prefillMaxTokenNum: 520 }).turns.length, turns.length - 4);
});

test('tool results as the new turn: older exchanges go, the open one (prompt, call) never', () => {
  const open: ChatMessage[] = [{ role: 'user', content: words(30, 'q') }, { role: 'assistant', content: '', toolCalls: [call('now')] }];
  const results: ChatMessage[] = [{ role: 'tool', content: words(30, 'res'), toolCallId: 'now', toolName: 'move' }];
  const turns = [...plain(0, 60), ...plain(1, 60), ...open];
  const fit = fitConversation(counter, 'sys', turns, results, { prefillMaxTokenNum: 300, maxTokenLen: 4096, replyReserve: 0 });
  assert.ok(fit.fits);
  assert.deepEqual(fit.turns, open, 'only the open exchange is left');
  assert.equal(fit.droppedTurns, 2);
  assert.ok(fit.inputTokens >= 34, 'the results are counted as the new input');
  const tooBig = fitConversation(counter, 'sys', turns, [{ ...results[0]!, content: words(400, 'res') }], { prefillMaxTokenNum: 300, maxTokenLen: 4096, replyReserve: 0 });
  assert.equal(tooBig.fits, false, 'results that cannot fit even with the open exchange alone: CONTEXT_FULL, not an orphan result');
  assert.deepEqual(tooBig.turns, open);
});

test('the tools rendered into the system turn count: a toolbox takes room the history gives up', () => {
  const turns = [...plain(0, 40), ...plain(1, 40)];
  const limits = { prefillMaxTokenNum: 500, maxTokenLen: 4096, replyReserve: 0 };
  assert.equal(fitConversation(counter, 'sys', turns, 'next', limits).droppedTurns, 0, 'without tools it fits');
  const withTools = fitConversation(counter, 'sys', turns, 'next', limits, undefined, [MOVE_TOOL, MOVE_TOOL]);
  assert.ok(withTools.fits);
  assert.equal(withTools.droppedTurns, 1, 'two tools (200 tokens) push the oldest exchange out');
  assert.ok(withTools.prefixTokens >= 200);
});

test('a transcript never starts with a tool result (its call is not there)', () => {
  const history = normalizeHistory([{ role: 'tool', content: 'late', toolCallId: 'x' }, { role: 'assistant', content: 'a' }, ...plain(1, 2)]);
  assert.deepEqual(history.map((t) => t.role), ['user', 'assistant']);
});

test('the store closes unanswered calls into text before a new prompt, and caps by whole exchanges', () => {
  const store = new ConversationStore(4, 2);
  store.getOrCreate('c', 'sys');
  store.append('c', [{ role: 'user', content: 'move it' }, { role: 'assistant', content: '', toolCalls: [call('c1')] }]);
  assert.equal(store.get('c')!.turns[1]!.toolCalls?.length, 1, 'an open call stays a call while its results may come');
  store.append('c', [{ role: 'user', content: 'never mind' }, { role: 'assistant', content: 'ok' }]);
  const closed = store.get('c')!.turns[1]!;
  assert.equal(closed.toolCalls, undefined);
  assert.equal(closed.content, '<tool_call>\n{"name": "move", "arguments": {"x": 1}}\n</tool_call>', 'as the model wrote it');
  store.append('c', toolExchange(2, 1).slice(0, 2));
  store.append('c', toolExchange(2, 1).slice(2));
  assert.deepEqual(store.get('c')!.turns.slice(-4), toolExchange(2, 1), 'results are stored after their call');
  store.append('c', plain(3, 1));
  // 10 turns > 2·2: the last four turns would start with a tool result; whole exchanges go instead.
  assert.deepEqual(store.get('c')!.turns, plain(3, 1));
});

test('a persisted conversation reads tool rounds back, and drops what does not hold together', () => {
  const store = new ConversationStore();
  store.getOrCreate('c', 'sys');
  store.append('c', [...plain(0, 1), ...toolExchange(1, 1)]);
  const saved = JSON.parse(JSON.stringify(store.toJSON())) as Record<string, { system: string; turns: unknown[] }>;
  const back = new ConversationStore();
  assert.equal(back.load(saved), 1);
  assert.deepEqual(back.get('c')!.turns, store.get('c')!.turns, 'a tool round survives a restart');

  const broken = structuredClone(saved);
  const turns = broken['c']!.turns as Array<Record<string, unknown>>;
  turns[3] = { ...turns[3], toolCalls: [{ id: 'c1', name: 'move' }] }; // a call without its raw text
  turns.unshift({ role: 'tool', content: 'orphan', toolCallId: 'zz' });
  const read = new ConversationStore();
  read.load(broken);
  const kept = read.get('c')!.turns;
  assert.deepEqual(kept, store.get('c')!.turns.slice(0, 2), 'the exchange that does not hold together goes whole; so does a result before any call');
  assert.ok(resultsHaveCalls(kept), 'no result without its call');
});
