/**
 * What a caller may hand in as an image (msg.image, an MQTT payload, Ollama `images`, an OpenAI
 * `image_url`): a Buffer of JPEG/PNG bytes (camera, file-in, dashboard upload), a base64 string or
 * a `data:image/…;base64,` URI. Everything else is refused with BAD_INPUT and a sentence naming the
 * field. Sizes are bounded before anything is decoded.
 */
import { Ax650Error } from '../errors';
import { describe } from '../runtime/validate';

/** Largest encoded image accepted, bytes (a 12 MP JPEG is ~5 MB). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
/** Most images in one prompt. */
export const MAX_IMAGES = 8;

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

/** The format from the first bytes; undefined when it is no image format the package reads. */
export function sniffFormat(b: Uint8Array): ImageFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 12 && Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP') return 'webp';
  if (b.length >= 6 && Buffer.from(b.subarray(0, 3)).toString('latin1') === 'GIF') return 'gif';
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function fromBase64(text: string, field: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length === 0) throw bad(`${field} is an empty string; send JPEG or PNG bytes, base64 or a data: URI.`, field);
  if (!BASE64.test(clean)) {
    if (/^https?:\/\//i.test(text)) throw bad(`${field} is a web address; the package does not fetch URLs. Send the image itself (a Buffer, base64 or a data: URI).`, field);
    throw bad(`${field} is a string that is neither base64 nor a data: URI; send JPEG or PNG bytes, base64 or data:image/jpeg;base64,….`, field);
  }
  if ((clean.length * 3) / 4 > MAX_IMAGE_BYTES) throw tooBig(Math.round((clean.length * 3) / 4), field);
  return Buffer.from(clean.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function tooBig(bytes: number, field: string): Ax650Error {
  return bad(`${field} is ${(bytes / 1048576).toFixed(1)} MiB; images up to ${MAX_IMAGE_BYTES / 1048576} MiB are accepted. Send a smaller frame.`, field);
}

/** The encoded bytes of one image input, checked to be a JPEG, PNG, WebP or GIF within the size limit. */
export function imageBytes(input: unknown, field: string): { bytes: Buffer; format: ImageFormat } {
  let bytes: Buffer;
  if (Buffer.isBuffer(input)) bytes = input;
  else if (input instanceof Uint8Array) bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  else if (typeof input === 'string') {
    const data = /^data:([^,;]*)((?:;[^,;]*)*),/i.exec(input);
    if (data) {
      if (!/;base64/i.test(data[2] ?? '')) throw bad(`${field} is a data: URI without ;base64; send data:image/jpeg;base64,….`, field);
      bytes = fromBase64(decodeURIComponent(input.slice(data[0].length)), field);
    } else bytes = fromBase64(input, field);
  } else {
    throw bad(`${field} must be a Buffer of JPEG/PNG bytes, a base64 string or a data: URI, got ${describe(input)}.`, field);
  }
  if (bytes.length > MAX_IMAGE_BYTES) throw tooBig(bytes.length, field);
  const format = sniffFormat(bytes);
  if (!format) throw bad(`${field} is not a JPEG or PNG image (its first bytes are no image header); send the file's bytes, not its name or text.`, field);
  return { bytes, format };
}

/** One image as given, with the name of the field it came in (for the error sentence). */
export interface ImageInput {
  input: unknown;
  field: string;
}

/** msg.image (one) or msg.images (a list) as a list of raw inputs with their field names; [] when neither is set. */
/** The question asked of an image that comes without one (a bare camera frame on MQTT or in msg.payload). */
export const DEFAULT_IMAGE_PROMPT = 'Describe this image.';

export function imageInputs(one: unknown, many: unknown, base = 'msg'): ImageInput[] {
  const out: ImageInput[] = [];
  if (one !== undefined && one !== null) out.push({ input: one, field: `${base}.image` });
  if (many !== undefined && many !== null) {
    if (!Array.isArray(many)) throw bad(`${base}.images must be a list of images, got ${describe(many)}; use ${base}.image for one.`, `${base}.images`);
    many.forEach((input, i) => out.push({ input, field: `${base}.images[${i}]` }));
  }
  if (out.length > MAX_IMAGES) throw bad(`${out.length} images in one prompt; at most ${MAX_IMAGES} are accepted.`, `${base}.images`);
  return out;
}
