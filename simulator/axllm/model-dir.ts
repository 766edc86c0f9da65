/**
 * A simulated model folder in the 2026 flat axllm layout (HF `AXERA-TECH/Qwen3-1.7B` / `Qwen3-0.6B`,
 * M5Stack `Qwen3-VL-2B`): `config.json` with the real key set, tiny placeholder axmodels and embed
 * table, `post_config.json`, and the tokenizer file the config names (the real Qwen3 tokenizer.json,
 * with its tokenizer_config.json beside it so the package's tokenizer code can load the folder).
 * No run script and no binary inside: `axllm` comes from PATH; createAxllmSimBinary writes one.
 */
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { qwen3TokenizerSource, sq } from '../model-dir';

export type AxllmSimModel = 'Qwen3-0.6B' | 'Qwen3-1.7B' | 'Qwen3-VL-2B-Instruct';

export interface AxllmSimModelDirOptions {
  /** Text model (default Qwen3-1.7B); `vision: true` picks Qwen3-VL-2B-Instruct. */
  model?: AxllmSimModel;
  vision?: boolean;
  /** Fewer decoder layers make the simulated load print fewer bars (the real ones have 28). */
  axmodelNum?: number;
  /** Keys merged over the generated config.json (null removes a key). */
  config?: Record<string, unknown>;
}

export interface AxllmSimModelDir {
  dir: string;
  modelName: string;
  config: Record<string, unknown>;
}

const EMBED_SIZE: Record<AxllmSimModel, number> = { 'Qwen3-0.6B': 1024, 'Qwen3-1.7B': 2048, 'Qwen3-VL-2B-Instruct': 2048 };

export const AXLLM_TOKENIZER_FILE = 'qwen3_tokenizer/tokenizer.json';
export const AXLLM_SIM_BINARY_NAME = 'axllm';

const POST_CONFIG = {
  enable_temperature: true,
  temperature: 0.7,
  enable_repetition_penalty: false,
  repetition_penalty: 1.05,
  penalty_window: 128,
  enable_top_p_sampling: true,
  top_p: 0.8,
  enable_top_k_sampling: true,
  top_k: 20,
};

function configFor(model: AxllmSimModel, axmodelNum: number): Record<string, unknown> {
  const vision = model === 'Qwen3-VL-2B-Instruct';
  const config: Record<string, unknown> = {
    model_name: `AXERA-TECH/${model}`,
    tokenizer_type: vision ? 'Qwen3VL' : 'Qwen3',
    url_tokenizer_model: AXLLM_TOKENIZER_FILE,
    template_filename_axmodel: vision ? 'qwen3_vl_text_p128_l%d_together.axmodel' : 'qwen3_p128_l%d_together.axmodel',
    axmodel_num: axmodelNum,
    filename_post_axmodel: vision ? 'qwen3_vl_text_post.axmodel' : 'qwen3_post.axmodel',
    filename_tokens_embed: 'model.embed_tokens.weight.bfloat16.bin',
    tokens_embed_num: 151936,
    tokens_embed_size: EMBED_SIZE[model],
    use_mmap_load_embed: true,
    devices: [0],
    system_prompt: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.',
  };
  if (vision) {
    config['vlm_type'] = 'Qwen3VL';
    config['filename_image_encoder_axmodel'] = 'qwen3_vl_vision_448.axmodel';
    config['vision_width'] = 448;
    config['vision_height'] = 448;
  }
  return config;
}

/** Lays out the folder and returns its config.json contents. */
export async function createAxllmSimModelDir(dir: string, opts: AxllmSimModelDirOptions = {}): Promise<AxllmSimModelDir> {
  const model: AxllmSimModel = opts.vision ? 'Qwen3-VL-2B-Instruct' : (opts.model ?? 'Qwen3-1.7B');
  const axmodelNum = opts.axmodelNum ?? 28;
  const config = configFor(model, axmodelNum);
  for (const [key, value] of Object.entries(opts.config ?? {})) {
    if (value === null) delete config[key];
    else config[key] = value;
  }
  await mkdir(path.join(dir, path.dirname(AXLLM_TOKENIZER_FILE)), { recursive: true });
  await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 4)}\n`);
  await writeFile(path.join(dir, 'post_config.json'), `${JSON.stringify(POST_CONFIG, null, 4)}\n`);
  const template = String(configFor(model, axmodelNum)['template_filename_axmodel']);
  const files = [
    ...Array.from({ length: axmodelNum }, (_, i) => template.replace('%d', String(i))),
    String(configFor(model, axmodelNum)['filename_post_axmodel']),
    'model.embed_tokens.weight.bfloat16.bin',
  ];
  if (model === 'Qwen3-VL-2B-Instruct') files.push('qwen3_vl_vision_448.axmodel');
  const placeholder = Buffer.from('AXMODEL-PLACEHOLDER (ax650-sim)\n');
  await Promise.all(files.map((f) => writeFile(path.join(dir, f), placeholder)));
  const source = qwen3TokenizerSource();
  const tokDir = path.join(dir, path.dirname(AXLLM_TOKENIZER_FILE));
  await copyFile(path.join(source, 'tokenizer.json'), path.join(tokDir, 'tokenizer.json'));
  await copyFile(path.join(source, 'tokenizer_config.json'), path.join(tokDir, 'tokenizer_config.json'));
  return { dir, modelName: String(config['model_name']), config };
}

/**
 * Writes `<binDir>/axllm`, a shell script that execs the simulator in axllm mode, so the package can
 * find it on PATH or by a configured path and spawn it exactly like `/usr/bin/axllm`.
 */
export async function createAxllmSimBinary(binDir: string): Promise<string> {
  await mkdir(binDir, { recursive: true });
  const file = path.join(binDir, AXLLM_SIM_BINARY_NAME);
  const cli = path.resolve(__dirname, '../cli.js');
  await writeFile(file, `#!/bin/sh\nAX650_SIM_ARGV0="$0" AX650_SIM_MODE=axllm exec ${sq(process.execPath)} ${sq(cli)} "$@"\n`);
  await chmod(file, 0o755);
  return file;
}
