/**
 * The image size a VL model folder takes. axllm folders name it in config.json (`vision_width` /
 * `vision_height`, or an `image_size` number or [w, h] pair); the vision encoder's file name carries
 * it too (`…_vision_448.axmodel`). Unknown → 448×448, the size of the VL models AXERA ships.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_TARGET, type VisionTarget } from './prepare';

const MIN = 28;
const MAX = 4096;

function side(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= MIN && v <= MAX ? v : undefined;
}

/** The target from a parsed config.json object. */
export function visionTargetFromConfig(cfg: Record<string, unknown>): VisionTarget {
  const w = side(cfg['vision_width']);
  const h = side(cfg['vision_height']);
  if (w !== undefined && h !== undefined) return { width: w, height: h };
  const size = cfg['image_size'];
  if (side(size) !== undefined) return { width: size as number, height: size as number };
  if (Array.isArray(size) && side(size[0]) !== undefined && side(size[1]) !== undefined) return { width: size[0] as number, height: size[1] as number };
  const encoder = cfg['filename_image_encoder_axmodel'];
  const fromName = typeof encoder === 'string' ? /_(\d{3,4})(?:x(\d{3,4}))?\.axmodel$/.exec(encoder) : null;
  if (fromName) {
    const a = side(Number(fromName[1]));
    const b = fromName[2] ? side(Number(fromName[2])) : a;
    if (a !== undefined && b !== undefined) return { width: a, height: b };
  }
  return { ...DEFAULT_TARGET };
}

/** The target of a model folder; the default when its config.json is missing or unreadable. */
export async function visionTargetOf(modelDir: string): Promise<VisionTarget> {
  try {
    const raw: unknown = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8'));
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return visionTargetFromConfig(raw as Record<string, unknown>);
  } catch {
    // a 2025 folder or none: the default size
  }
  return { ...DEFAULT_TARGET };
}
