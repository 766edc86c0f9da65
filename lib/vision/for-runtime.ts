/**
 * The one entry every ingress (generate node, MQTT, the API facade) uses to turn raw images into
 * PreparedImages for the runtime: refuses at once, before sharp is even loaded, when the loaded
 * model has no vision, and otherwise scales to the model's input size.
 */
import { Ax650Error } from '../errors';
import type { PreparedImage, RuntimeInfo } from '../runtime/types';
import { DEFAULT_TARGET, prepareImages } from './prepare';
import type { ImageInput } from './source';

export function visionUnsupported(info: Pick<RuntimeInfo, 'modelName' | 'vision'>): Ax650Error {
  return new Ax650Error(
    'VISION_UNSUPPORTED',
    `The loaded model ${info.modelName ? `"${info.modelName}" ` : ''}cannot see images (it is a text-only model); load a vision-language model folder (e.g. Qwen3-VL-2B) with the axllm runtime to send images.`,
    { params: { model: info.modelName ?? '' } },
  );
}

/**
 * Prepared images for a prompt; [] when there are none. `info.vision` false (a text-only model, or
 * the 2025 runtime) → VISION_UNSUPPORTED; null (not loaded yet) → prepared for the default size and
 * checked again by the Runtime when the job starts.
 */
export async function prepareForRuntime(info: Pick<RuntimeInfo, 'modelName' | 'vision' | 'visionInput'>, inputs: readonly ImageInput[]): Promise<PreparedImage[]> {
  if (inputs.length === 0) return [];
  if (info.vision === false) throw visionUnsupported(info);
  return prepareImages(inputs, info.visionInput ?? DEFAULT_TARGET);
}
