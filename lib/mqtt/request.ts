/**
 * Turns one incoming PUBLISH into a job request and the place its answer goes. Parsing never
 * throws: a bad payload still yields a reply target, so the requester gets a BAD_INPUT reply
 * instead of silence (DESIGN "Bad input and faults").
 */
import { randomUUID } from 'node:crypto';
import { Ax650Error, toAx650Error } from '../errors';
import type { ChatMessage, JobRequest } from '../runtime/types';
import { describe, parseOptions, validateMessages, validateRequest } from '../runtime/validate';
import { addToolParts } from '../client-tools/messages';
import { readPromptActions, type PromptActions } from './actions';
import type { ReplyPolicy } from './reply-policy';
import { isPublishTopic } from './topics';
import { DEFAULT_IMAGE_PROMPT, imageInputs, sniffFormat, type ImageInput } from '../vision/source';

/** The parts of a PUBLISH the bridge reads (MQTT.js `IPublishPacket` narrowed to what matters). */
export interface IncomingPrompt {
  topic: string;
  payload: Buffer;
  responseTopic?: string;
  correlationData?: Buffer;
  /** Seconds left, as forwarded by the broker ([MQTT-3.3.2-6]). */
  messageExpiryInterval?: number;
  contentType?: string;
  /** MQTT v5 user properties; a bare image payload reads `prompt`, `system`, `conversation` and `id` from them. */
  userProperties?: Record<string, string | string[]>;
}

export interface ReplyTarget {
  topic: string;
  /** Echoed unchanged on every reply ([MQTT-3.3.2-16] and its non-normative note). */
  correlationData?: Buffer;
  /** The requester's `id`, or one made up so that every reply names its request. */
  id: string;
}

/** What a prompt asks for, before the bridge adds owner and signal. */
export type PromptRequest = Omit<JobRequest, 'owner' | 'signal'>;

export type ParsedPrompt =
  | { ok: true; target: ReplyTarget; dedupeKey: string | null; request: PromptRequest; images: ImageInput[]; actions?: PromptActions }
  | { ok: false; target: ReplyTarget; dedupeKey: string | null; error: Ax650Error };

/** The suffix of the reply topic used when neither a Response Topic nor `replyTo` is given. */
export const DEFAULT_RESPONSE_SUFFIX = '/response';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${key} must be a string, got ${describe(v)}.`, key);
  return v;
}

/** Longer ids are refused: a requester's id is echoed in every reply and kept for de-duplication. */
export const MAX_REQUEST_ID_LENGTH = 256;

function requestId(body: Record<string, unknown> | null): string | undefined {
  const v = body?.id;
  if (typeof v === 'string' && v !== '' && v.length <= MAX_REQUEST_ID_LENGTH) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function overlongId(body: Record<string, unknown> | null): Ax650Error | null {
  const v = body?.id;
  if (typeof v !== 'string' || v.length <= MAX_REQUEST_ID_LENGTH) return null;
  return bad(`id must be at most ${MAX_REQUEST_ID_LENGTH} characters, got ${v.length}; the reply carries a new id instead.`, 'id');
}

/**
 * A JSON object the bridge itself could have published (a delta, final or error reply). When the
 * prompt filter also matches a reply topic, answering such a message would loop forever.
 */
export function looksLikeReply(body: unknown): boolean {
  if (!isRecord(body) || 'prompt' in body || 'messages' in body) return false;
  return 'done' in body || 'delta' in body || 'error' in body || body.type === 'tool_calls';
}

function lastUserMessage(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as ChatMessage;
    if (m.role === 'user') return m.content;
  }
  throw bad('messages must contain at least one user message (the prompt).', 'messages');
}

/** Assistant `tool_calls` and `tool` turns' links, which validateMessages does not carry. */
function withToolParts(raw: unknown, messages: ChatMessage[]): ChatMessage[] {
  const list = raw as Array<Record<string, unknown>>;
  return messages.map((m, i) => addToolParts(list[i] ?? {}, i, `messages[${i}]`, m));
}

function fromJson(body: Record<string, unknown>, notAfter: number | undefined): PromptRequest {
  const messages = body.messages === undefined || body.messages === null ? undefined : withToolParts(body.messages, validateMessages(body.messages));
  let prompt = optionalString(body, 'prompt');
  if (prompt === undefined) {
    if (!messages) throw bad('The JSON payload needs a "prompt" string or a "messages" array.', 'prompt');
    prompt = lastUserMessage(messages);
  }
  const { sampling, maxTokens, think } = parseOptions(body.options);
  const request: PromptRequest = { prompt, sampling };
  const system = optionalString(body, 'system');
  const conversation = optionalString(body, 'conversation');
  if (system !== undefined) request.system = system;
  if (conversation !== undefined) request.conversation = conversation;
  if (messages) request.messages = messages;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (think !== undefined) request.think = think;
  if (notAfter !== undefined) request.notAfter = notAfter;
  return request;
}

function userProperty(msg: IncomingPrompt, key: string): string | undefined {
  const v = msg.userProperties?.[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/**
 * A payload that is itself a JPEG/PNG (a camera publishing frames): the image is the payload, the
 * prompt, system prompt, conversation and id come from MQTT v5 user properties, as JSON would give them.
 */
function imagePayload(msg: IncomingPrompt): Record<string, unknown> | null {
  if (!sniffFormat(msg.payload)) return null;
  const body: Record<string, unknown> = { prompt: userProperty(msg, 'prompt') ?? DEFAULT_IMAGE_PROMPT };
  for (const key of ['system', 'conversation', 'id', 'replyTo']) {
    const v = userProperty(msg, key);
    if (v !== undefined) body[key] = v;
  }
  return body;
}

function decodeBody(msg: IncomingPrompt): { text: string; json: unknown; jsonError: string | null; image?: Buffer } {
  const fromImage = imagePayload(msg);
  if (fromImage) return { text: '', json: fromImage, jsonError: null, image: msg.payload };
  const text = utf8.decode(msg.payload);
  const wantsJson = msg.contentType === 'application/json' || text.trimStart().startsWith('{');
  if (!wantsJson) return { text, json: undefined, jsonError: null };
  try {
    return { text, json: JSON.parse(text) as unknown, jsonError: null };
  } catch (e) {
    return { text, json: undefined, jsonError: e instanceof Error ? e.message : String(e) };
  }
}

/** The reply topic, and why the one the requester asked for was refused (then the default topic carries the error). */
function replyTopic(msg: IncomingPrompt, body: Record<string, unknown> | null, policy: ReplyPolicy | undefined): { topic: string; refusal: Ax650Error | null } {
  const fallback = msg.topic + DEFAULT_RESPONSE_SUFFIX;
  const replyTo = body?.replyTo;
  const asked: [string, string] | null =
    msg.responseTopic !== undefined && isPublishTopic(msg.responseTopic) ? [msg.responseTopic, 'responseTopic']
      : typeof replyTo === 'string' && isPublishTopic(replyTo) ? [replyTo, 'replyTo'] : null;
  if (!asked) return { topic: fallback, refusal: null };
  const refusal = policy?.refusal(asked[0], asked[1]) ?? null;
  return { topic: refusal ? fallback : asked[0], refusal };
}

/**
 * The identity of a request for QoS 1 redelivery: the correlation data, else the `id`, scoped by
 * the reply topic so that two requesters that both count from 1 do not collide.
 */
function dedupeKeyOf(target: ReplyTarget, givenId: string | undefined): string | null {
  if (target.correlationData && target.correlationData.length > 0) {
    return `c ${target.topic} ${target.correlationData.toString('hex')}`;
  }
  return givenId === undefined ? null : `i ${target.topic} ${givenId}`;
}

/**
 * Returns null for a message that must be ignored without a reply (one of the bridge's own replies).
 * `policy` confines the reply topics a requester may choose (lib/mqtt/reply-policy.ts).
 */
export function parsePrompt(msg: IncomingPrompt, receivedAt: number = Date.now(), policy?: ReplyPolicy): ParsedPrompt | null {
  let decoded: ReturnType<typeof decodeBody> | null = null;
  let decodeError: Ax650Error | null = null;
  try {
    decoded = decodeBody(msg);
  } catch {
    decodeError = bad('The payload is not UTF-8 text; send a prompt as text or JSON.', 'payload');
  }
  if (decoded && looksLikeReply(decoded.json)) return null;
  const body = decoded && isRecord(decoded.json) ? decoded.json : null;
  const givenId = requestId(body);
  const reply = replyTopic(msg, body, policy);
  const target: ReplyTarget = { topic: reply.topic, id: givenId ?? randomUUID() };
  if (msg.correlationData !== undefined) target.correlationData = msg.correlationData;
  const dedupeKey = dedupeKeyOf(target, givenId);
  const fail = (error: Ax650Error): ParsedPrompt => ({ ok: false, target, dedupeKey, error });

  if (decodeError || !decoded) return fail(decodeError ?? bad('The payload could not be read.', 'payload'));
  if (reply.refusal) return fail(reply.refusal);
  if (decoded.jsonError !== null) return fail(bad(`The payload is not valid JSON: ${decoded.jsonError}`, 'payload'));
  const idError = overlongId(body);
  if (idError) return fail(idError);
  const expiry = msg.messageExpiryInterval;
  const notAfter = expiry !== undefined && expiry > 0 ? receivedAt + expiry * 1000 : undefined;
  try {
    let request: PromptRequest;
    let actions: PromptActions | undefined;
    if (decoded.json === undefined) {
      request = { prompt: decoded.text };
      if (notAfter !== undefined) request.notAfter = notAfter;
    } else if (body) {
      if (body.replyTo !== undefined && (typeof body.replyTo !== 'string' || !isPublishTopic(body.replyTo))) {
        throw bad(`replyTo must be a topic without wildcards, got ${describe(body.replyTo)}.`, 'replyTo');
      }
      request = fromJson(body, notAfter);
      actions = readPromptActions(body);
    } else {
      throw bad(`A JSON payload must be an object like {"prompt":"…"}, got ${describe(decoded.json)}.`, 'payload');
    }
    validateRequest(request);
    const images = decoded.image ? [{ input: decoded.image, field: 'payload' }] : body ? imageInputs(body.image, body.images, 'payload') : [];
    return actions && (actions.tools || actions.format !== undefined) ? { ok: true, target, dedupeKey, request, images, actions } : { ok: true, target, dedupeKey, request, images };
  } catch (e) {
    return fail(toAx650Error(e, 'BAD_INPUT'));
  }
}
