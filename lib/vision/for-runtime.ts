/**
 * The one entry every ingress (generate node, MQTT, the API facade) uses to turn raw images into
 * PreparedImages for the runtime: refuses at once, before sharp is even loaded, when the loaded
 * model has no vision, and otherwise scales to the model's input size.
 */
import { Ax650Error } from '../errors';
import type { PreparedImage, RuntimeInfo } from '../runtime/types';
import { DEFAULT_TARGET, prepareImages } from './prepare';
import type { ImageInput } from './source';

/**
 * VISION_UNSUPPORTED with the reason that applies: the 2025 main_api runtime takes no images whatever
 * the folder holds; on axllm the loaded model is a text-only one. The 2025 case carries the i18n
 * `context` "main_api", so a catalog translates it with `errors.VISION_UNSUPPORTED_main_api`.
 */
export function visionUnsupported(info: Pick<RuntimeInfo, 'modelName' | 'vision' | 'kind'>): Ax650Error {
  const model = info.modelName ? `"${info.modelName}" ` : '';
  if (info.kind === 'main-api') {
    return new Ax650Error(
      'VISION_UNSUPPORTED',
      `The loaded model ${model}runs on the 2025 main_api runtime, which cannot take images at all; load a vision-language model folder (e.g. Qwen3-VL-2B) with the axllm runtime to send images.`,
      { params: { model: info.modelName ?? '', context: 'main_api' } },
    );
  }
  return new Ax650Error(
    'VISION_UNSUPPORTED',
    `The loaded model ${model}cannot see images (it is a text-only model); load a vision-language model folder (e.g. Qwen3-VL-2B) with the axllm runtime to send images.`,
    { params: { model: info.modelName ?? '' } },
  );
}

/**
 * Prepared images for a prompt; [] when there are none. `info.vision` false (a text-only model, or
 * the 2025 runtime) → VISION_UNSUPPORTED; null (not loaded yet) → prepared for the default size and
 * checked again by the Runtime when the job starts.
 */
export async function prepareForRuntime(info: Pick<RuntimeInfo, 'modelName' | 'vision' | 'visionInput' | 'kind'>, inputs: readonly ImageInput[]): Promise<PreparedImage[]> {
  if (inputs.length === 0) return [];
  if (info.vision === false) throw visionUnsupported(info);
  return prepareImages(inputs, info.visionInput ?? DEFAULT_TARGET);
}
