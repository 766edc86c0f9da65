/**
 * From what a user sets in the editor to a complete RuntimeConfig: the flags come from the model
 * folder's own run script (overridable one by one), devices from axcl-smi when set to auto, and the
 * simulator stands in when no card is present (the caller provides it: lib/ does not import the
 * simulator). Also the pre-flight that runs before anything spawns.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ax650Error } from '../errors';
import { checkModelFiles, checkPortFree, findBinary, findRunScript, parseRunScript, preflight, scriptBinaryFor } from '../device/preflight';
import { listCards } from '../device/probes';
import { defaultConfig, QWEN3_4B_FLAGS, type RuntimeConfig, type TokenizerMode } from './config';
import { binaryPath, noSimulatorError, type SimulatorProvider } from './launcher';
import { axllmPreflight } from './axllm-preflight';
import { detectKind, resolveKind, type RuntimeKindSetting } from './kind-detect';

export type RuntimeMode = 'auto' | 'hardware' | 'simulator';

export interface RuntimeSettings {
  modelDir: string;
  /** Which runtime: decided from the folder (`auto`), or forced. */
  runtime?: RuntimeKindSetting;
  /** main-api: the binary in the folder. axllm: the axllm program ('' = axllm on PATH, then /usr/bin/axllm). */
  binary?: string;
  /** Flag overrides on top of the run script's, without dashes. */
  flags?: Record<string, string>;
  /** "auto" (cards axcl-smi lists) or explicit 0-based indices like "0" or "0,1". */
  devices?: string;
  systemPrompt?: string;
  tokenizerMode?: TokenizerMode;
  tokenizerPort?: number;
  tokenizerUrl?: string;
  mode?: RuntimeMode;
  queueLimit?: number;
  loadStallMs?: number;
  maxCrashes?: number;
  simulatorEnv?: Record<string, string>;
  /** axllm and the simulator take any port; the 2025 runtime always listens on 8000. */
  runtimePort?: number;
  stateDir?: string;
  modelName?: string;
}

/** Flags the package sets itself: the tokenizer URL it started, the devices it chose, the system prompt. */
const MANAGED_FLAGS = new Set(['system_prompt', 'url_tokenizer_model', 'devices']);

export const CARD_DEVICE = '/dev/axcl_host';

export function cardPresent(): boolean {
  return existsSync(CARD_DEVICE);
}

export async function resolveRuntimeConfig(s: RuntimeSettings, simulatorProvider?: SimulatorProvider): Promise<RuntimeConfig> {
  const simulator = s.mode === 'simulator' || (s.mode !== 'hardware' && !cardPresent());
  let modelDir = s.modelDir ? path.resolve(s.modelDir) : '';
  const stateDir = s.stateDir ?? defaultConfig({ modelDir: '' }).stateDir;
  const kindSetting = s.runtime ?? 'auto';
  const given = modelDir && existsSync(modelDir) ? await detectKind(modelDir) : null;
  let kind = await resolveKind(kindSetting, modelDir && existsSync(modelDir) ? modelDir : '', simulator);
  if (simulator && (given === null || given !== kind)) {
    // The simulator plays the kind chosen or detected; without a folder of that kind it makes one.
    if (!simulatorProvider) throw noSimulatorError();
    modelDir = path.join(stateDir, kind === 'axllm' ? 'ax650-sim-axllm-model' : 'ax650-sim-model');
    await simulatorProvider.createModelDir(modelDir, kind);
    kind = kindSetting === 'auto' ? ((await detectKind(modelDir)) ?? kind) : kind;
  }
  if (kind === 'axllm') return axllmConfig(s, { modelDir, simulator, stateDir });
  if (!modelDir) throw new Ax650Error('CONFIG_INVALID', 'Set the model folder (the vendor folder with main_api_axcl_aarch64 and qwen3-4b-ax650/).');
  if (!existsSync(modelDir)) throw new Ax650Error('MODEL_FILES_MISSING', `The model folder ${modelDir} does not exist.`, { params: { path: modelDir } });

  let flags: Record<string, string> = { ...QWEN3_4B_FLAGS };
  let binary = s.binary ?? '';
  const script = await findRunScript(modelDir);
  if (script) {
    const parsed = parseRunScript(await readFile(script, 'utf8'));
    flags = Object.fromEntries(Object.entries(parsed.flags).filter(([k]) => !MANAGED_FLAGS.has(k)));
    if (!binary && parsed.binary) binary = await scriptBinaryFor(parsed.binary, modelDir);
  }
  if (!binary) binary = path.basename((await findBinary(modelDir)) ?? '');
  for (const [k, v] of Object.entries(s.flags ?? {})) if (!MANAGED_FLAGS.has(k) && v !== '') flags[k] = v;

  const devices = await resolveDevices(s.devices, simulator);
  return finish(s, { modelDir, binary, flags, devices, simulator, stateDir }, simulator);
}

async function resolveDevices(setting: string | undefined, simulator: boolean): Promise<string> {
  const devices = (setting ?? 'auto').trim();
  if (devices === 'auto' || devices === '') {
    const cards = simulator ? [] : await listCards({});
    return cards.length > 0 ? cards.join(',') : '0';
  }
  if (!/^\d+(,\d+)*$/.test(devices)) {
    throw new Ax650Error('CONFIG_INVALID', `Devices must be "auto" or 0-based card indices like "0" or "0,1", got "${devices}".`);
  }
  return devices;
}

/**
 * axllm: the folder's config.json is the runtime's own configuration; the node adds the binary, the
 * card(s) (AXLLM_DEVICES) and the port. No tokenizer service runs.
 */
async function axllmConfig(s: RuntimeSettings, base: { modelDir: string; simulator: boolean; stateDir: string }): Promise<RuntimeConfig> {
  const devices = await resolveDevices(s.devices, base.simulator);
  return finish(s, { ...base, kind: 'axllm', binary: s.binary ?? '', flags: {}, devices }, true);
}

/** The settings every kind shares, over the kind's own fields. `portMovable`: the runtime listens where told. */
function finish(s: RuntimeSettings, base: Partial<RuntimeConfig> & { modelDir: string }, portMovable: boolean): RuntimeConfig {
  const overrides: Partial<RuntimeConfig> & { modelDir: string } = { ...base };
  if (s.systemPrompt) overrides.systemPrompt = s.systemPrompt;
  if (s.tokenizerMode) overrides.tokenizerMode = s.tokenizerMode;
  if (s.tokenizerPort !== undefined) overrides.tokenizerPort = s.tokenizerPort;
  if (s.tokenizerUrl) overrides.tokenizerUrl = s.tokenizerUrl;
  if (s.queueLimit !== undefined) overrides.queueLimit = s.queueLimit;
  if (s.loadStallMs !== undefined) overrides.loadStallMs = s.loadStallMs;
  if (s.simulatorEnv) overrides.simulatorEnv = s.simulatorEnv;
  if (s.modelName) overrides.modelName = s.modelName;
  if (portMovable && s.runtimePort !== undefined) overrides.runtimePort = s.runtimePort;
  const cfg = defaultConfig(overrides);
  if (s.maxCrashes !== undefined) cfg.restart.maxCrashes = s.maxCrashes;
  return cfg;
}

/** The checks before spawning; each problem is its own error code with a sentence saying what to do. */
export async function runPreflight(cfg: RuntimeConfig): Promise<void> {
  if (cfg.kind === 'axllm') {
    const device = Number(cfg.devices.split(',')[0] ?? 0) || 0;
    return axllmPreflight({ modelDir: cfg.modelDir, binary: cfg.binary, runtimePort: cfg.runtimePort, simulator: cfg.simulator, device });
  }
  const tokenizerPort = cfg.tokenizerMode === 'external' ? null : cfg.tokenizerPort === 0 ? null : cfg.tokenizerPort;
  if (cfg.simulator) {
    const problems = [await checkModelFiles(cfg.modelDir, cfg.flags), await checkPortFree(cfg.runtimePort, 'PORT_IN_USE')];
    if (tokenizerPort !== null) problems.push(await checkPortFree(tokenizerPort, 'TOKENIZER_PORT_IN_USE'));
    const first = problems.find((p): p is Ax650Error => p !== null);
    if (first) throw first;
    return;
  }
  await preflight({ modelDir: cfg.modelDir, binary: binaryPath(cfg), flags: cfg.flags, runtimePort: cfg.runtimePort, tokenizerPort });
}
