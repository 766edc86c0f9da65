/**
 * Tool rounds inside a stored conversation (issue #15 with msg.conversation). An exchange is a user
 * turn and everything up to the next user turn: the assistant's tool calls, the tool results, the
 * final answer. Whatever drops turns (the context fit, the store's turn cap, a persisted store read
 * back) drops whole exchanges, so a tool result never outlives the call it answers, and an assistant
 * turn whose calls were never answered (calls handed to the flow, a tool that timed out) is closed
 * into text before a new prompt follows it (a chat template takes results only right after calls).
 */
import { toolCallMarkup } from '../tokenizer/template-messages';
import type { ChatMessage, PreparedImage, ToolCall } from './types';

/** What a turn adds to its conversation: its input (a prompt with its images, or a tool round's results) and the reply with any calls it made. */
export function turnRecord(turn: { prompt: string; images: readonly PreparedImage[]; toolResults?: readonly ChatMessage[] }, reply: string, calls: readonly ToolCall[] | undefined): ChatMessage[] {
  const input: ChatMessage[] = turn.toolResults ? turn.toolResults.map((m) => ({ ...m })) : [{ role: 'user', content: turn.prompt, ...(turn.images.length > 0 ? { images: [...turn.images] } : {}) }];
  return [...input, { role: 'assistant', content: reply, ...(calls && calls.length > 0 ? { toolCalls: [...calls] } : {}) }];
}

/** Index of the next exchange's first turn after `from` (turns.length when there is none). */
function nextUserAfter(turns: readonly ChatMessage[], from: number): number {
  for (let i = from + 1; i < turns.length; i++) if (turns[i]!.role === 'user') return i;
  return turns.length;
}

/** The turns without their oldest exchange (a stray leading non-user run counts as one). */
export function dropOldestExchange(turns: readonly ChatMessage[]): ChatMessage[] {
  return turns.slice(nextUserAfter(turns, 0));
}

/** How many exchanges the turns hold. */
export function exchangeCount(turns: readonly ChatMessage[]): number {
  let n = 0;
  for (let i = 0; i < turns.length; i = nextUserAfter(turns, i)) n++;
  return n;
}

/** The last `max` turns at most, cut at an exchange's start. */
export function capTurns(turns: readonly ChatMessage[], max: number): ChatMessage[] {
  let out = [...turns];
  while (out.length > max) out = dropOldestExchange(out);
  return out;
}

/** The calls of the last turn when it is an assistant turn whose calls have no results yet. */
export function openCalls(turns: readonly ChatMessage[]): ToolCall[] {
  const last = turns[turns.length - 1];
  return last?.role === 'assistant' && last.toolCalls && last.toolCalls.length > 0 ? last.toolCalls : [];
}

/**
 * The turns with a trailing assistant turn's unanswered calls written into its text, as the model
 * wrote them; the turns themselves when there are none. A new prompt may follow the result.
 */
export function closeOpenCalls(turns: readonly ChatMessage[]): ChatMessage[] {
  const calls = openCalls(turns);
  if (calls.length === 0) return [...turns];
  const last = turns[turns.length - 1]!;
  const { toolCalls: _calls, ...rest } = last;
  const content = [last.content, ...calls.map(toolCallMarkup)].filter((s) => s !== '').join('\n');
  return [...turns.slice(0, -1), { ...rest, content }];
}

/** Whether `results` answer the open calls of the turns (each result names one of those calls). */
export function answersOpenCalls(turns: readonly ChatMessage[], results: readonly ChatMessage[]): boolean {
  const calls = openCalls(turns);
  return results.length > 0 && results.every((r) => r.role === 'tool' && calls.some((c) => (r.toolCallId !== undefined ? c.id === r.toolCallId : c.name === r.toolName)));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readCall(v: unknown): ToolCall | null {
  if (!isObject(v) || typeof v['id'] !== 'string' || typeof v['name'] !== 'string' || v['name'] === '' || typeof v['raw'] !== 'string') return null;
  const call: ToolCall = { id: v['id'], name: v['name'], raw: v['raw'] };
  if (isObject(v['arguments'])) call.arguments = v['arguments'];
  return call;
}

/** One persisted turn as a ChatMessage, or null when it is not one the package wrote. */
function readTurn(v: unknown): ChatMessage | null {
  if (!isObject(v) || typeof v['content'] !== 'string') return null;
  const role = v['role'];
  if (role !== 'user' && role !== 'assistant' && role !== 'tool') return null;
  const turn: ChatMessage = { ...(v as unknown as ChatMessage), role, content: v['content'] };
  delete turn.toolCalls;
  delete turn.toolCallId;
  delete turn.toolName;
  if (role === 'assistant' && v['toolCalls'] !== undefined) {
    const calls = Array.isArray(v['toolCalls']) ? v['toolCalls'].map(readCall) : [null];
    if (calls.length === 0 || !calls.every((c): c is ToolCall => c !== null)) return null;
    turn.toolCalls = calls;
  }
  if (role === 'tool') {
    if (typeof v['toolCallId'] === 'string') turn.toolCallId = v['toolCallId'];
    if (typeof v['toolName'] === 'string') turn.toolName = v['toolName'];
  }
  return turn;
}

/** A prompt, its reply, and any tool rounds between them, each result right after the call it answers. */
function holdsTogether(exchange: ReadonlyArray<ChatMessage | null>): exchange is ChatMessage[] {
  if (exchange.length < 2 || exchange[0]?.role !== 'user') return false;
  let calls: ToolCall[] = [];
  for (let k = 1; k < exchange.length; k++) {
    const t = exchange[k];
    const prev = exchange[k - 1]!;
    if (!t) return false;
    if (t.role === 'tool') {
      if (prev.role === 'user' || (prev.role === 'assistant' && !prev.toolCalls) || !answersOpenCalls([{ role: 'assistant', content: '', toolCalls: calls }], [t])) return false;
    } else if (t.role === 'assistant') {
      if (prev.role === 'assistant') return false;
      calls = t.toolCalls ?? [];
    } else return false;
  }
  return true;
}

/**
 * Persisted turns read back a whole exchange at a time: one that does not hold together (a malformed
 * turn, a result without its call, two replies in a row) is dropped, so the history stays one the
 * runtimes take; calls left without results are closed into text before the next exchange.
 */
export function readStoredTurns(raw: readonly unknown[]): ChatMessage[] {
  const turns = raw.map(readTurn);
  const out: ChatMessage[] = [];
  for (let i = 0; i < turns.length; ) {
    let end = i + 1;
    while (end < turns.length && turns[end]?.role !== 'user') end++;
    const exchange = turns.slice(i, end);
    if (holdsTogether(exchange)) out.splice(0, out.length, ...closeOpenCalls(out), ...exchange);
    i = end;
  }
  return out;
}
