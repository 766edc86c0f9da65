/**
 * Turns an incoming flow message (the public message contract in DESIGN.md) into a runtime command:
 * a job, a stop, or a conversation reset. Everything a user can get wrong is refused here with
 * BAD_INPUT and a sentence naming the property, before anything is queued.
 */
import { Ax650Error } from '../errors';
import { describe, parseOptions, validateMessages } from '../runtime/validate';
import type { JobRequest, SamplingOptions } from '../runtime/types';
import { DEFAULT_IMAGE_PROMPT, imageInputs, sniffFormat, type ImageInput } from '../vision/source';

export interface GenerateDefaults {
  system?: string;
  sampling: SamplingOptions;
  maxTokens?: number;
  think: boolean;
  timeouts: { firstTokenMs?: number; idleMs?: number; totalMs?: number };
}

export type GenerateCommand =
  | { kind: 'stop' }
  | { kind: 'reset'; conversation: string | null }
  /** `images`: msg.image / msg.images as given, prepared (lib/vision) before the request is submitted. */
  | { kind: 'job'; request: JobRequest; images: ImageInput[] };

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`msg.${field} must be a string, got ${describe(v)}.`, field);
  return v;
}

function parseTimeout(v: unknown): GenerateDefaults['timeouts'] {
  if (v === undefined || v === null) return {};
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v <= 0) throw bad(`msg.timeout must be a positive number of milliseconds, got ${describe(v)}.`, 'timeout');
    return { totalMs: v };
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`msg.timeout must be milliseconds or {firstToken, idle, total}, got ${describe(v)}.`, 'timeout');
  const out: GenerateDefaults['timeouts'] = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const key = ({ firstToken: 'firstTokenMs', idle: 'idleMs', total: 'totalMs' } as Record<string, 'firstTokenMs' | 'idleMs' | 'totalMs'>)[k];
    if (!key) throw bad(`msg.timeout.${k} is not a timeout; use firstToken, idle or total (milliseconds).`, `timeout.${k}`);
    if (typeof val !== 'number' || !Number.isFinite(val) || val <= 0) throw bad(`msg.timeout.${k} must be a positive number of milliseconds, got ${describe(val)}.`, `timeout.${k}`);
    out[key] = val;
  }
  return out;
}

export function parseGenerateMessage(msg: Record<string, unknown>, defaults: GenerateDefaults, owner: string): GenerateCommand {
  if (msg.stop !== undefined && msg.stop !== false) return { kind: 'stop' };
  const conversation = msg.conversation;
  if (conversation !== undefined && conversation !== null && (typeof conversation !== 'string' || conversation === '')) {
    throw bad(`msg.conversation must be a non-empty string naming the chat, got ${describe(conversation)}.`, 'conversation');
  }
  if (msg.reset !== undefined && msg.reset !== false) {
    if (msg.reset !== true) throw bad(`msg.reset must be true (forget the conversation's history), got ${describe(msg.reset)}.`, 'reset');
    return { kind: 'reset', conversation: typeof conversation === 'string' ? conversation : null };
  }
  const messages = msg.messages === undefined || msg.messages === null ? undefined : validateMessages(msg.messages);
  let prompt: unknown = msg.payload;
  // A JPEG/PNG as the payload (a file-in or camera node wired straight in) is the image; msg.prompt, if any, the question.
  const payloadImage = msg.image === undefined && msg.images === undefined && prompt instanceof Uint8Array && sniffFormat(prompt) !== undefined;
  if (payloadImage) prompt = optionalString(msg.prompt, 'prompt') ?? DEFAULT_IMAGE_PROMPT;
  if ((prompt === undefined || prompt === null) && (msg.image !== undefined || msg.images !== undefined)) prompt = '';
  if (typeof prompt === 'object' && prompt !== null && !Array.isArray(prompt) && 'prompt' in prompt) prompt = (prompt as { prompt: unknown }).prompt;
  if (messages && (prompt === undefined || prompt === null || prompt === '')) {
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    if (!lastUser) throw bad('msg.messages needs at least one message with role "user" (the prompt).', 'messages');
    prompt = lastUser.content;
  }
  if (typeof prompt !== 'string') {
    throw bad(`msg.payload must be the prompt text (or {prompt: "…"}), got ${describe(prompt)}.`, 'payload');
  }
  const opts = parseOptions(msg.options);
  const priority = msg.priority;
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isInteger(priority))) {
    throw bad(`msg.priority must be a whole number (higher runs first), got ${describe(priority)}.`, 'priority');
  }
  const request: JobRequest = {
    prompt,
    sampling: { ...defaults.sampling, ...opts.sampling },
    think: opts.think ?? defaults.think,
    timeouts: { ...defaults.timeouts, ...parseTimeout(msg.timeout) },
    owner,
  };
  const system = optionalString(msg.system, 'system') ?? defaults.system;
  if (system !== undefined && system !== '') request.system = system;
  if (typeof conversation === 'string') request.conversation = conversation;
  if (messages) request.messages = messages;
  const maxTokens = opts.maxTokens ?? defaults.maxTokens;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (typeof priority === 'number') request.priority = priority;
  const images = payloadImage ? [{ input: msg.payload, field: 'msg.payload' }] : imageInputs(msg.image, msg.images);
  // An image with no question gets the default one, as over MQTT.
  if (images.length > 0 && !messages && request.prompt.trim() === '') request.prompt = DEFAULT_IMAGE_PROMPT;
  return { kind: 'job', request, images };
}
