/**
 * A vendor-like Qwen3-4B model folder for the simulator: the layout of HF `AXERA-TECH/Qwen3-4B`
 * (mirror gregm123456/Qwen3-4B) with tiny placeholder model files, the real Qwen3 tokenizer files,
 * and a `main_api_axcl_aarch64` that execs the simulator, so the package spawns it like the binary.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { BUNDLED_TEMPLATE_CONFIG } from '../lib/tokenizer/chat-template';

export const SIM_BINARY_NAME = 'main_api_axcl_aarch64';
export const SIM_RUN_SCRIPT = 'run_qwen3_4b_int8_ctx_axcl_aarch64_api.sh';
export const QWEN3_4B_AXMODEL_NUM = 36;

export interface SimModelDirOptions {
  /** Decoder layers (Qwen3-4B: 36). Fewer makes the simulated load print fewer progress lines. */
  axmodelNum?: number;
}

/** The aarch64 `/api` invocation M5Stack documents: the x86 `_api.sh` with the binary and `--devices 0` swapped. */
export function vendorRunScript(axmodelNum: number): string {
  return `./${SIM_BINARY_NAME} \\
--system_prompt "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." \\
--template_filename_axmodel "qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel" \\
--axmodel_num ${axmodelNum} \\
--url_tokenizer_model "http://127.0.0.1:12345" \\
--filename_post_axmodel qwen3-4b-ax650/qwen3_post.axmodel \\
--filename_tokens_embed qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin \\
--tokens_embed_num 151936 \\
--tokens_embed_size 2560 \\
--use_mmap_load_embed 1 \\
--devices 0
`;
}

const POST_CONFIG = `{
    "enable_temperature" : false,
    "temperature" : 0.9,

    "enable_repetition_penalty" : false,
    "repetition_penalty" : 1.2,
    "penalty_window" : 20,

    "enable_top_p_sampling" : false,
    "top_p" : 0.8,

    "enable_top_k_sampling" : true,
    "top_k" : 1
}
`;

/**
 * The Qwen3 tokenizer files (tokenizer.json, tokenizer_config.json; Apache-2.0, see the README) ship in
 * the package: scripts/copy-assets.mjs puts them here at build time, so an installed package needs no
 * dev dependency to lay out a simulator folder.
 */
export const QWEN3_TOKENIZER_ASSETS = path.resolve(__dirname, 'assets/qwen3_tokenizer');
const QWEN3_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

export function qwen3TokenizerSource(): string {
  const missing = QWEN3_TOKENIZER_FILES.filter((f) => !existsSync(path.join(QWEN3_TOKENIZER_ASSETS, f)));
  if (missing.length > 0) {
    throw new Error(`The simulator's Qwen3 tokenizer files are missing (${missing.join(', ')} in ${QWEN3_TOKENIZER_ASSETS}): the package is incomplete; reinstall it (or run npm run build in a clone).`);
  }
  return QWEN3_TOKENIZER_ASSETS;
}

/** Shell-quotes for a single-quoted POSIX string. */
export function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export async function createSimModelDir(dir: string, opts: SimModelDirOptions = {}): Promise<void> {
  const axmodelNum = opts.axmodelNum ?? QWEN3_4B_AXMODEL_NUM;
  const models = path.join(dir, 'qwen3-4b-ax650');
  await mkdir(models, { recursive: true });
  await mkdir(path.join(dir, 'qwen3_tokenizer'), { recursive: true });
  await mkdir(path.join(dir, 'qwen2.5_tokenizer'), { recursive: true });

  const cli = path.resolve(__dirname, 'cli.js');
  // AX650_SIM_ARGV0 lets the usage text name the binary the way the caller invoked it.
  const binary = `#!/bin/sh\nAX650_SIM_ARGV0="$0" exec ${sq(process.execPath)} ${sq(cli)} "$@"\n`;
  await writeFile(path.join(dir, SIM_BINARY_NAME), binary);
  await chmod(path.join(dir, SIM_BINARY_NAME), 0o755);
  await writeFile(path.join(dir, SIM_RUN_SCRIPT), vendorRunScript(axmodelNum));
  await chmod(path.join(dir, SIM_RUN_SCRIPT), 0o755);
  await writeFile(path.join(dir, 'post_config.json'), POST_CONFIG);

  const placeholder = Buffer.from('AXMODEL-PLACEHOLDER\n');
  const files = [...Array.from({ length: axmodelNum }, (_, i) => `qwen3_p128_l${i}_together.axmodel`), 'qwen3_post.axmodel', 'model.embed_tokens.weight.bfloat16.bin'];
  await Promise.all(files.map((f) => writeFile(path.join(models, f), placeholder)));

  const source = qwen3TokenizerSource();
  await Promise.all(QWEN3_TOKENIZER_FILES.map((f) => copyFile(path.join(source, f), path.join(dir, 'qwen3_tokenizer', f))));
  await copyFile(BUNDLED_TEMPLATE_CONFIG, path.join(dir, 'qwen2.5_tokenizer', 'tokenizer_config.json'));
}
