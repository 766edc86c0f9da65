/**
 * handle_api_messages [M]: the request's `messages` into the model's history. Roles system, user and
 * assistant; content a string or an array of parts (text, image_url/image, video_url/video,
 * audio_url/audio; a URL prefixed `image:`/`video:`/`audio:` overrides the part type). Anything else
 * — a `tool` role, `content: null`, two media kinds in one message, a bad base64 character — makes the
 * whole request fail with the same logged reason the vendor prints.
 */
import { isObject, type Json } from '../json-compat';
import { decodeMediaUrl, describeMedia, MediaError, type MediaInfo } from './media';
import { toolTurnText } from './tools';

export interface Turn {
  role: 'system' | 'user' | 'assistant';
  text: string;
  media: MediaInfo[];
}

export class MessagesError extends Error {}

const PART_KIND: Record<string, MediaInfo['kind']> = {
  image_url: 'image',
  image: 'image',
  video_url: 'video',
  video: 'video',
  audio_url: 'audio',
  audio: 'audio',
};

function partUrl(value: Json | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['url'] === 'string') return value['url'];
  return undefined;
}

function mediaPart(type: string, part: { [key: string]: Json }): MediaInfo {
  let kind = PART_KIND[type] ?? 'image';
  let url = partUrl(part[type]);
  if (url === undefined) throw new MessagesError(`${type} part without url`);
  const prefix = /^(image|video|audio):(?!\/\/)/.exec(url);
  if (prefix && !url.startsWith('data:')) {
    kind = prefix[1] as MediaInfo['kind'];
    url = url.slice(prefix[0].length);
  }
  try {
    return describeMedia(kind, decodeMediaUrl(url));
  } catch (e) {
    if (e instanceof MediaError) throw new MessagesError(e.message);
    throw e;
  }
}

function parseContent(content: Json | undefined): { text: string; media: MediaInfo[] } {
  if (typeof content === 'string') return { text: content, media: [] };
  if (!Array.isArray(content)) throw new MessagesError('content type not support');
  let text = '';
  const media: MediaInfo[] = [];
  for (const part of content) {
    if (!isObject(part) || typeof part['type'] !== 'string') throw new MessagesError('content type not support');
    const type = part['type'];
    if (type === 'text') {
      text += typeof part['text'] === 'string' ? part['text'] : '';
    } else if (PART_KIND[type] !== undefined) {
      media.push(mediaPart(type, part));
    } else {
      throw new MessagesError('content type not support');
    }
  }
  if (new Set(media.map((m) => m.kind)).size > 1) throw new MessagesError('only one media type per message is supported');
  return { text, media };
}

/** Throws MessagesError with the vendor's logged reason. `tools`: PR56 follow-up turns are accepted. */
export function parseMessages(messages: Json[], tools: unknown): Turn[] {
  return messages.map((m) => {
    if (!isObject(m)) throw new MessagesError('content type not support');
    const toolTurn = tools !== undefined ? toolTurnText(m) : undefined;
    if (toolTurn) return { ...toolTurn, media: [] };
    const role = m['role'];
    if (role !== 'system' && role !== 'user' && role !== 'assistant') throw new MessagesError('content type not support');
    return { role, ...parseContent(m['content']) };
  });
}

/** `/v1` vision check of the library: only parts of `type: "image_url"` count. */
export function hasImageUrlPart(messages: Json | undefined): boolean {
  if (!Array.isArray(messages)) return false;
  return messages.some((m) => isObject(m) && Array.isArray(m['content']) && m['content'].some((p) => isObject(p) && p['type'] === 'image_url'));
}
