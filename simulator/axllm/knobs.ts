/**
 * The serve-mode knobs. The timing, reply and fault knobs are the 2025 simulator's (`readSimConfig`,
 * simulator/env.ts); these are the ones only `axllm serve` has. All come from the environment because
 * the real binary takes nothing but `serve <dir> [--port N]`.
 */
import { readSimConfig, type SimConfig } from '../env';
import type { ToolScriptItem } from './tools';

export type MemGuardFault = 'preflight' | 'midload';

export interface AxllmKnobs {
  sim: SimConfig;
  /** Where the server listens. The real one binds 0.0.0.0; the simulator defaults to loopback. */
  bind: string;
  /** Before PR56 `temperature: 0` was turned into 1.0 (sampling). On by default, like the builds in the field. */
  temperatureZeroBug: boolean;
  /** How long a request waits for the concurrency slot before 503 (httplib wait_timeout, never set: 5000 ms). */
  slotWaitMs: number;
  /** The card's free CMM is too small for the model: refused before the load or in the middle of it. */
  memGuard: MemGuardFault | undefined;
  /** A scripted tool call `{"name":…,"arguments":{…}}` the model answers with when the request has tools (PR56). */
  toolCall: { name: string; arguments: unknown } | undefined;
  /** AX650_SIM_TOOL_SCRIPT: the n-th request with tools is answered by element n (calls, raw text or a plain answer). */
  toolScript: ToolScriptItem[] | undefined;
  /**
   * AX650_SIM_NATIVE_TOOLS (default 1): the build has PR56's tools (with a tool knob set). 0: a build without it:
   * `tools` is ignored, a `tool` turn or `content: null` is refused, and the tool script answers the prompts whose
   * text carries Qwen3's `# Tools` block (the package writes it itself for such a build), as plain text.
   */
  nativeTools: boolean;
  /** AX650_SIM_REPLY_SCRIPT: the n-th request (not taken by the tool script) is answered with string n. */
  replyScript: string[] | undefined;
  /** PR66 (merged 2026-07-08): SIGTERM, SIGHUP and SIGQUIT take SIGINT's graceful path. Off: only SIGINT is handled. */
  pr66Signals: boolean;
  /** AXLLM_DEVICES: overrides config.json `devices`. */
  devices: number[] | undefined;
  /** AXLLM_LOG_FILE: a copy of every log line. */
  logFile: string | undefined;
}

function parseToolCall(raw: string | undefined): AxllmKnobs['toolCall'] {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`AX650_SIM_TOOL_CALL must be JSON {"name":…,"arguments":{…}}, got ${JSON.stringify(raw)}`);
  }
  if (typeof value !== 'object' || value === null || typeof (value as { name?: unknown }).name !== 'string') {
    throw new Error(`AX650_SIM_TOOL_CALL must be an object with a string "name", got ${JSON.stringify(raw)}`);
  }
  const v = value as { name: string; arguments?: unknown };
  return { name: v.name, arguments: v.arguments ?? {} };
}

function parseScript<T>(name: string, raw: string | undefined, check: (v: unknown) => v is T, shape: string): T[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${name} must be a JSON array, got ${JSON.stringify(raw.slice(0, 80))}`);
  }
  if (!Array.isArray(value)) throw new Error(`${name} must be a JSON array, got ${JSON.stringify(raw.slice(0, 80))}`);
  value.forEach((v, i) => {
    if (!check(v)) throw new Error(`${name}[${i}] must be ${shape}, got ${JSON.stringify(v)}`);
  });
  return value as T[];
}

function isToolScriptItem(v: unknown): v is ToolScriptItem {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o['calls'])) return o['calls'].every((c) => typeof c === 'object' && c !== null && typeof (c as { name?: unknown }).name === 'string');
  return typeof o['raw'] === 'string' || typeof o['text'] === 'string';
}

/** AXLLM_DEVICES=0,1; unparsable items are dropped and an empty result falls back to config.json [cfg]. */
export function parseAxllmDevices(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const ids = raw.split(',').map((s) => s.trim()).filter((s) => /^\d+$/.test(s)).map(Number);
  return ids.length > 0 ? ids : undefined;
}

export function readAxllmKnobs(env: NodeJS.ProcessEnv): AxllmKnobs {
  const memGuard = env['AX650_SIM_MEM_GUARD'];
  if (memGuard !== undefined && memGuard !== '' && memGuard !== 'preflight' && memGuard !== 'midload') {
    throw new Error(`AX650_SIM_MEM_GUARD must be preflight or midload, got ${JSON.stringify(memGuard)}`);
  }
  const bug = env['AX650_SIM_TEMP0_BUG'] ?? '1';
  if (bug !== '0' && bug !== '1') throw new Error(`AX650_SIM_TEMP0_BUG must be 0 or 1, got ${JSON.stringify(bug)}`);
  const wait = Number(env['AX650_SIM_SLOT_WAIT_MS'] ?? '5000');
  if (!Number.isFinite(wait) || wait < 0) throw new Error(`AX650_SIM_SLOT_WAIT_MS must be a number >= 0, got ${JSON.stringify(env['AX650_SIM_SLOT_WAIT_MS'])}`);
  return {
    sim: readSimConfig(env),
    bind: env['AX650_SIM_BIND'] || '127.0.0.1',
    temperatureZeroBug: bug === '1',
    slotWaitMs: wait,
    memGuard: memGuard === 'preflight' || memGuard === 'midload' ? memGuard : undefined,
    toolCall: parseToolCall(env['AX650_SIM_TOOL_CALL']),
    toolScript: parseScript('AX650_SIM_TOOL_SCRIPT', env['AX650_SIM_TOOL_SCRIPT'], isToolScriptItem, '{"calls":[{"name","arguments"}]}, {"raw"} or {"text"}'),
    nativeTools: env['AX650_SIM_NATIVE_TOOLS'] !== '0',
    replyScript: parseScript('AX650_SIM_REPLY_SCRIPT', env['AX650_SIM_REPLY_SCRIPT'], (v): v is string => typeof v === 'string', 'a string'),
    pr66Signals: env['AX650_SIM_PR66'] === '1',
    devices: parseAxllmDevices(env['AXLLM_DEVICES']),
    logFile: env['AXLLM_LOG_FILE'] || undefined,
  };
}
