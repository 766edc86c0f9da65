/**
 * Decode, resize and re-encode an image for the model with sharp (libvips), loaded lazily: a flow
 * that never sends an image never loads it. The image is scaled to fit the model's input size
 * (keeping its aspect ratio, never enlarged), turned upright from its EXIF orientation, and encoded
 * as JPEG (PNG stays PNG, so flat graphics keep their edges). Memory per image is bounded: the
 * encoded size (source.ts) and the decoded pixel count (a decompression bomb is refused before it
 * is decoded).
 */
import { Ax650Error } from '../errors';
import type { PreparedImage } from '../runtime/types';
import { imageBytes, type ImageFormat, type ImageInput } from './source';

/** Largest decoded image, pixels (about 40 MP, 160 MB RGBA at most while it is scaled). */
export const MAX_INPUT_PIXELS = 40_000_000;

export interface VisionTarget {
  /** The model's input size; images are scaled to fit inside it. */
  width: number;
  height: number;
  /** JPEG quality, 1–100. Default 85. */
  quality?: number;
}

/** The size the simulated and the common AXERA VL models take (Qwen2.5/3-VL at 448). */
export const DEFAULT_TARGET: VisionTarget = { width: 448, height: 448 };

type SharpModule = typeof import('sharp');
let sharpModule: Promise<SharpModule> | null = null;

/** sharp, imported on the first image only. */
export function loadSharp(): Promise<SharpModule> {
  sharpModule ??= import('sharp').then((m) => ((m as { default?: SharpModule }).default ?? m) as SharpModule);
  return sharpModule;
}

export async function prepareImage(input: unknown, target: VisionTarget = DEFAULT_TARGET, field = 'msg.image'): Promise<PreparedImage> {
  const { bytes, format } = imageBytes(input, field);
  const sharp = await loadSharp();
  const keepPng = format === 'png';
  try {
    const pipeline = sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error', animated: false })
      .rotate()
      .resize({ width: target.width, height: target.height, fit: 'inside', withoutEnlargement: true });
    const encoded = keepPng ? pipeline.png({ compressionLevel: 6 }) : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality: target.quality ?? 85, mozjpeg: false });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    const mime = keepPng ? 'image/png' : 'image/jpeg';
    return { dataUri: `data:${mime};base64,${data.toString('base64')}`, mime, width: info.width, height: info.height, bytes: data.length };
  } catch (e) {
    throw decodeError(e, field, format);
  }
}

function decodeError(e: unknown, field: string, format: ImageFormat): Ax650Error {
  const why = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(why)) {
    return new Ax650Error('BAD_INPUT', `${field} is larger than ${MAX_INPUT_PIXELS / 1e6} megapixels once decoded; send a smaller frame.`, { params: { field } });
  }
  return new Ax650Error('BAD_INPUT', `${field} could not be decoded as ${format.toUpperCase()} (${why.split('\n')[0]}); the file is damaged or not an image.`, { params: { field }, cause: e });
}

/** Several images, prepared in order (one at a time, so memory holds one decoded frame). */
export async function prepareImages(inputs: readonly ImageInput[], target: VisionTarget = DEFAULT_TARGET): Promise<PreparedImage[]> {
  const out: PreparedImage[] = [];
  for (const { input, field } of inputs) out.push(await prepareImage(input, target, field));
  return out;
}
