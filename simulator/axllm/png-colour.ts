/**
 * The mean colour of a PNG, decoded with node's zlib (no image library needed): 8-bit greyscale,
 * grey+alpha, RGB, RGBA and palette images, not interlaced. Anything else (16-bit, Adam7, a broken
 * stream) gives undefined and the simulated encoder falls back to size and fingerprint only.
 */
import { inflateSync } from 'node:zlib';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const MAX_PIXELS = 16_000_000;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** [r, g, b] means in 0–255, or undefined when the PNG is not one this decoder reads. */
export function pngMeanColour(png: Buffer): [number, number, number] | undefined {
  if (png.length < 33 || png.readUInt32BE(12) !== 0x49484452) return undefined;
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const depth = png[24];
  const type = png[25] ?? -1;
  const channels = CHANNELS[type];
  if (depth !== 8 || channels === undefined || png[28] !== 0 || width * height > MAX_PIXELS || width === 0 || height === 0) return undefined;
  const idat: Buffer[] = [];
  let palette: Buffer | undefined;
  for (let at = 8; at + 8 <= png.length; ) {
    const len = png.readUInt32BE(at);
    const kind = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (kind === 'IDAT') idat.push(data);
    if (kind === 'PLTE') palette = data;
    if (kind === 'IEND') break;
    at += 12 + len;
  }
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch {
    return undefined;
  }
  const stride = width * channels;
  if (raw.length < (stride + 1) * height || (type === 3 && palette === undefined)) return undefined;
  const prev = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  const sum = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (line[x - channels] ?? 0) : 0;
      const b = prev[x] ?? 0;
      const c = x >= channels ? (prev[x - channels] ?? 0) : 0;
      const v = src[x] ?? 0;
      const predictor = filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : 0;
      line[x] = (v + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const p = x * channels;
      if (type === 3) {
        const i = (line[p] ?? 0) * 3;
        for (let k = 0; k < 3; k++) sum[k] = (sum[k] ?? 0) + (palette?.[i + k] ?? 0);
      } else {
        const grey = channels < 3;
        for (let k = 0; k < 3; k++) sum[k] = (sum[k] ?? 0) + (line[grey ? p : p + k] ?? 0);
      }
    }
    line.copy(prev);
  }
  const n = width * height;
  return [Math.round((sum[0] ?? 0) / n), Math.round((sum[1] ?? 0) / n), Math.round((sum[2] ?? 0) / n)];
}

const NAMED: ReadonlyArray<[string, [number, number, number]]> = [
  ['black', [0, 0, 0]],
  ['white', [255, 255, 255]],
  ['grey', [128, 128, 128]],
  ['red', [220, 30, 30]],
  ['green', [30, 170, 60]],
  ['blue', [30, 60, 220]],
  ['yellow', [240, 220, 40]],
  ['orange', [245, 140, 30]],
  ['purple', [140, 50, 170]],
  ['cyan', [40, 200, 220]],
];

/** The nearest of a few everyday colour names. */
export function colourName(rgb: [number, number, number]): string {
  let best = 'grey';
  let bestD = Infinity;
  for (const [name, [r, g, b]] of NAMED) {
    const d = (rgb[0] - r) ** 2 + (rgb[1] - g) ** 2 + (rgb[2] - b) ** 2;
    if (d < bestD) [best, bestD] = [name, d];
  }
  return best;
}
