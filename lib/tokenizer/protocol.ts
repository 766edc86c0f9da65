/**
 * The vendor tokenizer service's HTTP protocol (`Request` in `qwen3_tokenizer_uid.py`, L103-201): every answer is
 * HTTP 200 with a JSON body, errors included; routes match by substring of the whole path (`'/encode' in
 * self.path`), in the vendor's order; GET reads `uid` from the query string, POST from the JSON body.
 * Where the vendor raises and drops the connection (a body that is not a JSON object, a missing `text`, ids that
 * are not integers) this answers 200 with an `error` body instead, which the runtime's client logs.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage, ToolSpec } from '../runtime/types';
import type { PyJson } from './py-json';
import type { TokenizerSession } from './session';
import type { SessionStore } from './session-store';

export interface TokenizerEventMap {
  reset: [{ uid: string; tokenIds: number[]; restored: boolean }];
  encode: [{ uid: string; tokenIds: number[]; diff: number[] }];
  decode: [{ uid: string; ids: number[]; text: string }];
}

export interface ProtocolContext {
  readonly sessions: SessionStore<TokenizerSession>;
  readonly bosId: number;
  readonly eosId: number;
  newSession(): TokenizerSession;
  /** The history (and tools) armed by `setNextResetHistory`, handed over once. */
  takeRestore(): ResetSpec | null;
  /** The tool results armed by `setNextToolResults`, handed over once (to the next encode). */
  takeToolResults(): ChatMessage[] | null;
  emit<K extends keyof TokenizerEventMap>(event: K, ...args: TokenizerEventMap[K]): void;
}

export interface ResetSpec {
  history: ChatMessage[];
  tools?: ToolSpec[];
}

export interface ProtocolAnswer {
  status: number;
  body: { [key: string]: PyJson };
}

const ok = (body: { [key: string]: PyJson }): ProtocolAnswer => ({ status: 200, body });
const INVALID_UID = ok({ error: 'Invalid uid' });

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));
}

export function handleGet(ctx: ProtocolContext, rawPath: string): ProtocolAnswer {
  if (rawPath.includes('/get_uid')) {
    const uid = randomUUID();
    ctx.sessions.add(uid, ctx.newSession());
    return ok({ uid });
  }
  const isBos = rawPath.includes('/bos_id');
  if (isBos || rawPath.includes('/eos_id')) {
    const uid = new URLSearchParams(rawPath.split('?')[1] ?? '').get('uid');
    if (uid === null || ctx.sessions.get(uid) === undefined) return INVALID_UID;
    return isBos ? ok({ bos_id: ctx.bosId }) : ok({ eos_id: ctx.eosId });
  }
  return ok({ error: 'Invalid GET endpoint' });
}

export function handlePost(ctx: ProtocolContext, rawPath: string, rawBody: string): ProtocolAnswer {
  let req: unknown;
  try {
    req = JSON.parse(rawBody);
  } catch {
    return ok({ error: 'Invalid JSON body' });
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return ok({ error: 'Invalid JSON body' });
  const fields = req as Record<string, unknown>;
  const uid = typeof fields['uid'] === 'string' ? fields['uid'] : undefined;

  if (rawPath.includes('/encode')) {
    const session = uid === undefined ? undefined : ctx.sessions.get(uid);
    if (uid === undefined || !session) return INVALID_UID;
    const text = fields['text'];
    const lastReply = fields['last_reply'] ?? undefined;
    if (typeof text !== 'string') return ok({ error: 'Invalid text' });
    if (lastReply !== undefined && typeof lastReply !== 'string') return ok({ error: 'Invalid last_reply' });
    const { tokenIds, diff } = session.encode(text, lastReply, ctx.takeToolResults() ?? undefined);
    ctx.emit('encode', { uid, tokenIds, diff });
    return ok({ token_ids: tokenIds, diff });
  }
  if (rawPath.includes('/decode')) {
    const session = uid === undefined ? undefined : ctx.sessions.get(uid);
    if (uid === undefined || !session) return INVALID_UID;
    const ids = fields['token_ids'];
    if (!isIdList(ids)) return ok({ error: 'Invalid token_ids' });
    const text = session.decode(ids);
    ctx.emit('decode', { uid, ids, text });
    return ok({ text });
  }
  if (rawPath.includes('/reset')) {
    const session = uid === undefined ? undefined : ctx.sessions.get(uid);
    if (uid === undefined || !session) return INVALID_UID;
    const systemPrompt = fields['system_prompt'] ?? undefined;
    if (systemPrompt !== undefined && typeof systemPrompt !== 'string') return ok({ error: 'Invalid system_prompt' });
    const restore = ctx.takeRestore();
    const tokenIds = session.reset(systemPrompt, restore?.history ?? [], restore?.tools);
    ctx.emit('reset', { uid, tokenIds, restored: restore !== null });
    return ok({ token_ids: tokenIds });
  }
  return ok({ error: 'Invalid POST endpoint' });
}
