/**
 * Images in a conversation's transcript, within a bounded budget: the images of the last
 * MAX_IMAGE_TURNS user turns are kept while they total at most MAX_TRANSCRIPT_IMAGE_BYTES; every
 * older image is replaced by the text "[image]" in its turn, so the model still knows one was there
 * and the stored (and persisted) conversation does not grow with every frame.
 */
import type { ChatMessage, JobRequest, PreparedImage } from '../runtime/types';

export const MAX_IMAGE_TURNS = 2;
export const MAX_TRANSCRIPT_IMAGE_BYTES = 1024 * 1024;
export const IMAGE_PLACEHOLDER = '[image]';

/** The turns with older images dropped to placeholders (the newest turns win). */
export function keepImageBudget(turns: readonly ChatMessage[]): ChatMessage[] {
  let imageTurns = 0;
  let bytes = 0;
  const out: ChatMessage[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (!t.images || t.images.length === 0) {
      out.push(t);
      continue;
    }
    const size = t.images.reduce((n, im) => n + im.dataUri.length, 0);
    if (imageTurns < MAX_IMAGE_TURNS && bytes + size <= MAX_TRANSCRIPT_IMAGE_BYTES) {
      imageTurns++;
      bytes += size;
      out.push(t);
    } else {
      const { images, ...rest } = t;
      const marks = Array<string>(images.length).fill(IMAGE_PLACEHOLDER).join(' ');
      out.push({ ...rest, content: rest.content === '' ? marks : `${marks} ${rest.content}` });
    }
  }
  return out.reverse();
}

/** The request carries an image anywhere (its own, or in its transcript). */
export function hasImages(req: Pick<JobRequest, 'images' | 'messages'>): boolean {
  return (req.images?.length ?? 0) > 0 || (req.messages ?? []).some((m) => (m.images?.length ?? 0) > 0);
}

function isPreparedImage(v: unknown): v is PreparedImage {
  if (typeof v !== 'object' || v === null) return false;
  const im = v as Record<string, unknown>;
  return typeof im['dataUri'] === 'string' && /^data:image\/(jpeg|png);base64,[A-Za-z0-9+/=]+$/.test(im['dataUri']) && (im['mime'] === 'image/jpeg' || im['mime'] === 'image/png') && typeof im['width'] === 'number' && typeof im['height'] === 'number' && typeof im['bytes'] === 'number';
}

/** A turn read back from the persisted store: images that are not what lib/vision made become "[image]" text. */
export function restoredTurn(t: ChatMessage): ChatMessage {
  const raw: unknown = (t as { images?: unknown }).images;
  if (raw === undefined) return t;
  const { images: _images, ...rest } = t;
  if (Array.isArray(raw) && raw.length > 0 && raw.every(isPreparedImage)) return { ...rest, images: raw };
  return { ...rest, content: rest.content === '' ? IMAGE_PLACEHOLDER : `${IMAGE_PLACEHOLDER} ${rest.content}` };
}
