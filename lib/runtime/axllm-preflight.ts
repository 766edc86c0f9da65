/**
 * The checks before `axllm serve` is spawned (issue 14 item 2): config.json valid (axllm would
 * replace a bad one by defaults without failing), every file it names present and not a Git LFS
 * pointer, a tokenizer.json for the package's own counts, the binary (present, this CPU, executable),
 * the port free, the card present and enough free CMM on it for the model's files. Each problem is
 * its own error code with a sentence saying what to do; all of them are returned at once.
 */
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Ax650Error } from '../errors';
import { checkBinary, checkModelFiles, checkPortFree } from '../device/preflight';
import { readCmmInfo, type ProbeOptions } from '../device/probes';
import { axllmTokenizerSource } from '../tokenizer/axllm-tokenizer';
import { configPath, readAxllmConfig, type AxllmConfig } from './axllm-config';
import { axllmBinaryPath } from './axllm-launch';

export interface AxllmPreflightOptions {
  modelDir: string;
  /** Configured binary ('' = axllm on PATH). */
  binary: string;
  /** null: not checked (Check folder, while the runtime holds it). */
  runtimePort: number | null;
  /** The simulator stands in: no binary, card or CMM checks. */
  simulator: boolean;
  /** First card of the node's devices, for the CMM check. */
  device: number;
  arch?: string;
  /** Default `/dev/axcl_host`. */
  cardDevice?: string;
  probe?: ProbeOptions;
}

export interface AxllmFolderReport {
  config: AxllmConfig | null;
  /** Bytes of every model file config.json names (what the card must hold). */
  modelBytes: number;
  problems: Ax650Error[];
}

/** Sum of the file sizes, skipping the missing ones (reported separately). */
async function totalBytes(dir: string, files: string[]): Promise<number> {
  const sizes = await Promise.all(files.map((f) => stat(configPath(dir, f)).then((s) => s.size, () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

export async function checkAxllmFolder(opts: AxllmPreflightOptions): Promise<AxllmFolderReport> {
  const problems: Ax650Error[] = [];
  let config: AxllmConfig | null = null;
  try {
    config = await readAxllmConfig(opts.modelDir);
  } catch (e) {
    problems.push(e as Ax650Error);
  }
  let modelBytes = 0;
  if (config) {
    // checkModelFiles expands nothing here: the list is already expanded; every entry is a "filename".
    const named = Object.fromEntries([...config.files, config.tokenizerFile].map((f, i) => [`filename_${i}`, f]));
    const files = await checkModelFiles(opts.modelDir, named);
    if (files) problems.push(files);
    else if (!(await axllmTokenizerSource(opts.modelDir))) {
      problems.push(new Ax650Error('MODEL_FILES_MISSING', `No tokenizer the package can read in ${opts.modelDir} (a tokenizer.json, or a Qwen qwen3_tokenizer.txt): it counts tokens itself (axllm reports none). Copy tokenizer.json and tokenizer_config.json of the original model (e.g. Qwen/Qwen3-1.7B) into the folder.`, { params: { file: 'tokenizer.json' } }));
    }
    modelBytes = await totalBytes(opts.modelDir, config.files);
  }
  if (!opts.simulator) {
    const binary = axllmBinaryPath({ binary: opts.binary, modelDir: opts.modelDir });
    const bad = await checkBinary(binary, opts.arch);
    if (bad?.code === 'BINARY_MISSING' && !opts.binary) {
      problems.push(new Ax650Error('BINARY_MISSING', `axllm is not installed: no "axllm" on PATH and no ${binary}. Install it with the vendor's install script (AXERA-TECH/ax-llm, branch axllm), or set the binary path in the runtime node.`, { params: { path: binary } }));
    } else if (bad) problems.push(bad);
  }
  if (opts.runtimePort !== null) {
    const busy = await checkPortFree(opts.runtimePort, 'PORT_IN_USE');
    if (busy) {
      problems.push(new Ax650Error('PORT_IN_USE', `Port ${opts.runtimePort} is already in use: axllm would exit at once. Choose another port in the runtime node (each runtime node needs its own), or stop the program holding it.`, { params: { port: opts.runtimePort } }));
    }
  }
  if (!opts.simulator) {
    const cardDevice = opts.cardDevice ?? '/dev/axcl_host';
    if (!existsSync(cardDevice)) {
      problems.push(new Ax650Error('NO_CARD', `No AX650 card: ${cardDevice} is missing. Install the AXCL driver and check that the card is seated (lspci), or choose simulator mode.`, { params: { reason: 'no-device' } }));
    } else if (config && modelBytes > 0) {
      const cmm = await readCmmInfo(opts.device, opts.probe ?? {});
      // axllm loads every axmodel and the embed table into CMM; its own guard keeps 128 MB free by default.
      const floorKiB = (typeof config.raw['mem_guard_floor_mb'] === 'number' ? config.raw['mem_guard_floor_mb'] : 128) * 1024;
      const needKiB = Math.ceil(modelBytes / 1024);
      if (cmm.ok && cmm.info.remainKiB - floorKiB < needKiB) {
        const mb = (kib: number) => Math.round(kib / 1024);
        problems.push(new Ax650Error('NPU_MEMORY_LOW', `The model needs about ${mb(needKiB)} MB of card memory (CMM) but card ${opts.device} has ${mb(cmm.info.remainKiB)} MB free: stop other models on the card (axcl-smi shows them) or use a smaller model.`, { params: { needMb: mb(needKiB), freeMb: mb(cmm.info.remainKiB), device: opts.device } }));
      }
    }
  }
  return { config, modelBytes, problems };
}

/** Throws the first problem: the one to fix first. */
export async function axllmPreflight(opts: AxllmPreflightOptions): Promise<void> {
  const { problems } = await checkAxllmFolder(opts);
  if (problems[0]) throw problems[0];
}
