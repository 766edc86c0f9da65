/**
 * The editor's "Check folder": what the runtime node would find in a model folder before anything
 * is spawned — the run script and its flags, the binary, the cards axcl-smi lists — and every
 * pre-flight problem at once, so a user fixes the folder in the dialog instead of reading a failed
 * deploy's log. Port checks are off: the running runtime holds those ports while the dialog is open.
 */
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ax650Error, toAx650Error, type ErrorCode } from '../errors';
import { collectPreflightProblems, expectedBinaryName, findBinary, findRunScript, parseRunScript, scriptBinaryFor } from '../device/preflight';
import { listCards } from '../device/probes';
import type { ToolCommand } from '../device/run-tool';
import { QWEN3_4B_FLAGS } from './config';
import type { RuntimeKind } from '../client/runtime-client';
import { checkAxllmFolder } from './axllm-preflight';
import { axllmBinaryPath } from './axllm-launch';
import { detectKind, parseKindSetting, type RuntimeKindSetting } from './kind-detect';

export interface CheckFolderRequest {
  modelDir: string;
  /** The dialog's runtime setting; default auto (decided from the folder). */
  runtime?: RuntimeKindSetting;
  /** The dialog's runtime port (axllm listens where told). */
  port?: number;
  /** The binary field of the dialog; empty means "find it in the folder". */
  binary?: string;
}

export interface CheckFolderProblem {
  code: ErrorCode;
  message: string;
}

export interface CheckFolderResult {
  /** The runtime that would serve the folder; null when the folder is neither layout. */
  kind: RuntimeKind | null;
  /** axllm: config.json's `model_name` and `tokenizer_type`, whether it is a vision model, the size of its files. */
  model: { name: string; type: string; vision: boolean; sizeMb: number } | null;
  /** The HTTP port the runtime would listen on. */
  port: number;
  /** The run script the flags came from (absolute), or null when the folder has none. */
  script: string | null;
  /** The binary the runtime would start: as typed, else as the script names it (file name only), else the one for this CPU. */
  binary: string | null;
  /** The script's flags without the ones the package sets itself; empty without a script. */
  flags: Record<string, string>;
  /** 0-based card indices axcl-smi lists; empty when it lists none or is not installed. */
  cards: number[];
  problems: CheckFolderProblem[];
}

export interface CheckFolderOptions {
  /** Default `process.arch`. */
  arch?: string;
  /** axcl-smi command (tests use the fake); default as in lib/device/probes. */
  smi?: ToolCommand;
  smiTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Flags the runtime node sets itself (the same set lib/runtime/settings.ts drops from the script):
 * copying them into the dialog's overrides would pin a stale tokenizer URL or system prompt.
 */
const PACKAGE_FLAGS = new Set(['system_prompt', 'url_tokenizer_model', 'devices']);

/** Validates an admin request body; throws BAD_INPUT with a sentence for the 400 answer. */
export function parseCheckFolderBody(body: unknown): CheckFolderRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Ax650Error('BAD_INPUT', 'The request body must be a JSON object {modelDir, binary}.');
  }
  const { modelDir, binary, runtime, port } = body as Record<string, unknown>;
  if (typeof modelDir !== 'string' || modelDir.trim() === '') {
    throw new Ax650Error('BAD_INPUT', 'The Model folder is empty: enter the path of the downloaded model folder (e.g. /home/pi/Qwen3-4B), then check it.', { params: { field: 'modelDir' } });
  }
  if (binary !== undefined && binary !== null && typeof binary !== 'string') {
    throw new Ax650Error('BAD_INPUT', 'binary must be a string (empty to find it in the folder).', { params: { field: 'binary' } });
  }
  const req: CheckFolderRequest = { modelDir: modelDir.trim() };
  if (typeof binary === 'string' && binary.trim() !== '') req.binary = binary.trim();
  if (runtime !== undefined && runtime !== null && runtime !== '') req.runtime = parseKindSetting(runtime);
  if (port !== undefined && port !== null && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Ax650Error('BAD_INPUT', 'port must be a whole number from 1 to 65535.', { params: { field: 'port' } });
    req.port = n;
  }
  return req;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A missing axcl-smi means "no cards" (laptops, CI, the simulator); anything else it says is worth showing. */
async function cards(opts: CheckFolderOptions): Promise<{ cards: number[]; problem: CheckFolderProblem | null }> {
  try {
    const probe: Parameters<typeof listCards>[0] = {};
    if (opts.smi !== undefined) probe.smi = opts.smi;
    if (opts.smiTimeoutMs !== undefined) probe.timeoutMs = opts.smiTimeoutMs;
    if (opts.env !== undefined) probe.env = opts.env;
    return { cards: await listCards(probe), problem: null };
  } catch (e) {
    const err = toAx650Error(e);
    if (err.params['reason'] === 'not-found') return { cards: [], problem: null };
    return { cards: [], problem: { code: err.code, message: err.message } };
  }
}

/** axllm: config.json read for the model, then every pre-flight problem but the port (the running runtime may hold it) and the card (listed apart). */
async function checkAxllm(modelDir: string, req: CheckFolderRequest, arch: string, result: CheckFolderResult): Promise<void> {
  const report = await checkAxllmFolder({ modelDir, binary: req.binary ?? '', runtimePort: null, simulator: false, device: 0, arch });
  if (report.config) {
    const { modelName, tokenizerType, vision } = report.config;
    result.model = { name: modelName, type: tokenizerType, vision, sizeMb: Math.round(report.modelBytes / 1048576) };
  }
  result.binary = axllmBinaryPath({ binary: req.binary ?? '', modelDir });
  result.problems.push(...report.problems.filter((p) => p.code !== 'NO_CARD').map((p) => ({ code: p.code, message: p.message })));
}

export async function checkFolder(req: CheckFolderRequest, opts: CheckFolderOptions = {}): Promise<CheckFolderResult> {
  const arch = opts.arch ?? process.arch;
  const modelDir = path.resolve(req.modelDir);
  const cardCheck = cards(opts);
  const result: CheckFolderResult = { kind: null, model: null, port: req.port ?? 8000, script: null, binary: req.binary ?? null, flags: {}, cards: [], problems: [] };

  if (!(await isDirectory(modelDir))) {
    result.problems.push({ code: 'MODEL_FILES_MISSING', message: `The model folder ${modelDir} does not exist (or is not a folder).` });
  } else if ((result.kind = req.runtime && req.runtime !== 'auto' ? req.runtime : await detectKind(modelDir)) === null) {
    result.problems.push({ code: 'CONFIG_INVALID', message: `${modelDir} is neither an axllm model folder (config.json with template_filename_axmodel) nor a 2025 one (main_api_* binary or run_*api*.sh): download the whole model folder.` });
  } else if (result.kind === 'axllm') {
    await checkAxllm(modelDir, req, arch, result);
  } else {
    result.port = 8000;
    let scriptBinary: string | null = null;
    result.script = await findRunScript(modelDir, arch);
    if (result.script) {
      try {
        const parsed = parseRunScript(await readFile(result.script, 'utf8'));
        result.flags = Object.fromEntries(Object.entries(parsed.flags).filter(([k]) => !PACKAGE_FLAGS.has(k)));
        scriptBinary = await scriptBinaryFor(parsed.binary, modelDir, arch);
      } catch (e) {
        const err = toAx650Error(e, 'CONFIG_INVALID');
        result.problems.push({ code: err.code, message: `${path.basename(result.script)}: ${err.message}` });
      }
    }
    const found = await findBinary(modelDir, arch);
    result.binary = req.binary ?? scriptBinary ?? (found ? path.basename(found) : null);
    const flags = Object.keys(result.flags).length > 0 ? result.flags : QWEN3_4B_FLAGS;
    const binary = result.binary ?? expectedBinaryName(arch) ?? 'main_api_axcl_aarch64';
    const problems = await collectPreflightProblems({ modelDir, binary, flags, arch, runtimePort: null, tokenizerPort: null });
    result.problems.push(...problems.map((p) => ({ code: p.code, message: p.message })));
  }

  const { cards: list, problem } = await cardCheck;
  result.cards = list;
  if (problem) result.problems.push(problem);
  return result;
}
