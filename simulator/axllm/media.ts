/**
 * Media parts of a chat message [M handle_api_messages]: `data:<mime>;base64,…` URIs are
 * percent-decoded and base64-decoded (url-safe alphabet and whitespace tolerated, any other character
 * fails); anything else is a local file path (axllm never fetches over HTTP). The simulated vision
 * encoder reads the width and height from the PNG/JPEG/GIF header, the mean colour of a PNG (zlib) or
 * of a JPEG (decoded with sharp, the package's image library, in `addJpegColours`) and fingerprints
 * the bytes with SHA-256, so a reply depends on the image.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { colourName, pngMeanColour } from './png-colour';

export interface MediaInfo {
  kind: 'image' | 'video' | 'audio';
  format: 'png' | 'jpeg' | 'gif' | 'webp' | 'unknown';
  width: number | undefined;
  height: number | undefined;
  /** Mean [r, g, b] (PNG only). */
  meanColour?: [number, number, number];
  bytes: number;
  sha256: string;
  /** The decoded bytes, for the JPEG colour (never logged). */
  data?: Buffer;
}

export class MediaError extends Error {}

function base64Decode(text: string): Buffer {
  const clean = text.replace(/[\s]/g, '');
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 45 || c === 95 || c === 61;
    if (!ok) throw new MediaError(`invalid base64 character 0x${c.toString(16).padStart(2, '0')}`);
  }
  return Buffer.from(clean.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function decodeMediaUrl(url: string): Buffer {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0) throw new MediaError('invalid data uri: no comma');
    let payload: string;
    try {
      payload = decodeURIComponent(url.slice(comma + 1));
    } catch {
      payload = url.slice(comma + 1);
    }
    return base64Decode(payload);
  }
  try {
    return readFileSync(url);
  } catch {
    throw new MediaError(`media file not found: ${url}`);
  }
}

function jpegSize(b: Buffer): { width: number; height: number } | undefined {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1] ?? 0;
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return undefined;
}

export function describeMedia(kind: MediaInfo['kind'], bytes: Buffer): MediaInfo {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const base = { kind, bytes: bytes.length, sha256 };
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    const meanColour = pngMeanColour(bytes);
    return { ...base, format: 'png', width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), ...(meanColour ? { meanColour } : {}) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    const size = jpegSize(bytes);
    return { ...base, format: 'jpeg', width: size?.width, height: size?.height, data: bytes };
  }
  if (bytes.subarray(0, 3).toString('latin1') === 'GIF' && bytes.length >= 10) {
    return { ...base, format: 'gif', width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') {
    return { ...base, format: 'webp', width: undefined, height: undefined };
  }
  return { ...base, format: 'unknown', width: undefined, height: undefined };
}

/** What the simulated VL model says about an image: its size and a fingerprint of its bytes. */
export function describeForReply(info: MediaInfo): string {
  const size = info.width !== undefined && info.height !== undefined ? `${info.width}x${info.height} ` : '';
  const hex = (rgb: [number, number, number]): string => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const colour = info.meanColour ? `, mostly ${colourName(info.meanColour)} (mean ${hex(info.meanColour)})` : '';
  return `I see a ${size}${info.format === 'unknown' ? '' : `${info.format.toUpperCase()} `}${info.kind}${colour} (${info.bytes} bytes, fingerprint ${info.sha256.slice(0, 8)}).`;
}

/** Fills in the mean colour of JPEG images (sharp, loaded on the first JPEG); one that does not decode keeps none. */
export async function addJpegColours(media: MediaInfo[]): Promise<void> {
  for (const m of media) {
    if (m.format !== 'jpeg' || !m.data || m.meanColour) continue;
    try {
      const mod = (await import('sharp')) as unknown as { default?: typeof import('sharp') } & typeof import('sharp');
      const sharp = mod.default ?? mod;
      const stats = await sharp(m.data, { limitInputPixels: 40_000_000 }).stats();
      const [r, g, b] = stats.channels.map((c) => Math.round(c.mean));
      if (r !== undefined && g !== undefined && b !== undefined) m.meanColour = [r, g, b];
    } catch {
      // a broken JPEG: size and fingerprint only
    }
  }
}
