/**
 * Images in the API facade's requests: Ollama's `images` (base64 strings, on /api/generate and on
 * each /api/chat message) and OpenAI's content parts (`{"type":"image_url","image_url":{"url":…}}`,
 * a data: URI; the `image_url` may also be the URL string itself). A web address is refused: the
 * package does not fetch URLs (neither does axllm, §7). The images are prepared (for-runtime.ts)
 * only after the whole request was read, so a bad field fails before any decoding.
 */
import { Ax650Error } from '../errors';
import type { ChatMessage, PreparedImage, RuntimeInfo } from '../runtime/types';
import { prepareForRuntime } from './for-runtime';
import { MAX_IMAGES, type ImageInput } from './source';

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The image of an OpenAI `image_url` part; a remote URL or a part without a URL is BAD_INPUT. */
export function openAiImagePart(part: Record<string, unknown>, field: string): ImageInput {
  const ref = part['image_url'];
  const url = typeof ref === 'string' ? ref : isObject(ref) && typeof ref['url'] === 'string' ? ref['url'] : undefined;
  if (url === undefined) throw bad(`"${field}.image_url" must be {"url": "data:image/jpeg;base64,…"}.`, `${field}.image_url`);
  if (/^https?:\/\//i.test(url)) {
    throw bad(`"${field}.image_url.url" is a web address; this server does not fetch URLs. Send the image inline as a data: URI (data:image/jpeg;base64,…).`, `${field}.image_url.url`);
  }
  if (!url.startsWith('data:')) throw bad(`"${field}.image_url.url" must be a data: URI (data:image/jpeg;base64,…); file paths and other schemes are not read.`, `${field}.image_url.url`);
  return { input: url, field: `${field}.image_url.url` };
}

/** Ollama's `images`: a list of base64 strings. */
export function ollamaImages(value: unknown, field: string): ImageInput[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(`"${field}" must be a list of base64-encoded images.`, field);
  if (value.length > MAX_IMAGES) throw bad(`"${field}" has ${value.length} images; at most ${MAX_IMAGES} are accepted.`, field);
  return value.map((input: unknown, i) => {
    if (typeof input !== 'string') throw bad(`"${field}[${i}]" must be a base64 string.`, `${field}[${i}]`);
    return { input, field: `${field}[${i}]` };
  });
}

/** Prepares each message's collected images and puts them on the message (`raw[i]` belongs to `messages[i]`). */
export async function attachImages(info: Pick<RuntimeInfo, 'modelName' | 'vision' | 'visionInput' | 'kind'>, messages: ChatMessage[], raw: ReadonlyArray<ImageInput[] | undefined>): Promise<ChatMessage[]> {
  const all = raw.flatMap((r) => r ?? []);
  if (all.length === 0) return messages;
  if (all.length > MAX_IMAGES) throw bad(`${all.length} images in one request; at most ${MAX_IMAGES} are accepted.`, 'messages');
  const prepared: PreparedImage[] = await prepareForRuntime(info, all);
  let at = 0;
  return messages.map((m, i) => {
    const n = raw[i]?.length ?? 0;
    if (n === 0) return m;
    const images = prepared.slice(at, at + n);
    at += n;
    return { ...m, images };
  });
}
