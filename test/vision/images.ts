/** Test images made with sharp: a solid colour of a given size, as JPEG or PNG. */
import sharp from 'sharp';

export type Rgb = { r: number; g: number; b: number };

export async function solid(width: number, height: number, colour: Rgb, format: 'jpeg' | 'png'): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: colour } });
  return format === 'jpeg' ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();
}

/** A camera-like frame (1280×720 by default): a gradient with noise, so it compresses like a real photo. */
export async function cameraFrame(width = 1280, height = 720, quality = 85): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let i = 0; i < raw.length; i += 3) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = (i / 3) % width;
    const y = Math.floor(i / 3 / width);
    raw[i] = (x * 200) / width + (seed % 40);
    raw[i + 1] = (y * 200) / height + ((seed >> 8) % 40);
    raw[i + 2] = 90 + ((seed >> 16) % 40);
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}

export const RED: Rgb = { r: 220, g: 30, b: 30 };
export const BLUE: Rgb = { r: 30, g: 60, b: 220 };
export const GREEN: Rgb = { r: 30, g: 170, b: 60 };
