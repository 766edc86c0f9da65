/**
 * The simulator's knobs. The real binary rejects unknown flags, so everything the vendor binary
 * does not have comes from the environment (documented in simulator/README.md).
 */
import { isIP } from 'node:net';
import { parseReplyScript, parseToolScript, type ToolScriptStep } from './scripted-replies';

export type HangMode = 'load' | 'generate' | 'wedge';
export type InitFailMode = 'axmodel' | 'post' | 'embed' | 'axcl';
export type DeadCardMode = 'load' | 'generate' | 'glued';

export interface SimConfig {
  port: number;
  /** Address the HTTP API listens on: loopback unless AX650_SIM_BIND asks for the real binary's 0.0.0.0. */
  bind: string;
  tokensPerSec: number;
  prefillMsPerToken: number;
  loadMs: number;
  listenDelayMs: number;
  startDelayMs: number;
  replyTokens: number | undefined;
  reply: string | undefined;
  seed: string;
  crashAfterTokens: number | undefined;
  hang: HangMode | undefined;
  /** The generate-time faults (hang, dead card, crash) hit only prompts containing this text; undefined: every prompt. */
  faultPrompt: string | undefined;
  /** AX650_SIM_TOOL_SCRIPT / AX650_SIM_REPLY_SCRIPT (simulator/scripted-replies.ts). */
  toolScript: ToolScriptStep[] | undefined;
  replyScript: string[] | undefined;
  initFail: InitFailMode | undefined;
  deadCard: DeadCardMode | undefined;
  loadStallMs: number;
  maxTokenLen: number;
  prefillMax: number;
  contextFull: 'fixed' | 'wedge';
  logFile: string | undefined;
  argv0: string | undefined;
  /** What `stdbuf -o` asked for through the environment, if anything. */
  stdbuf: 'line' | 'unbuffered' | undefined;
}

/** Defaults of every knob as strings, so tests can spread and override them into a child env. */
export const simulatorEnvDefaults: Readonly<Record<string, string>> = Object.freeze({
  AX650_SIM_PORT: '8000',
  // The real binary binds 0.0.0.0 (reference §1.4); a simulator on a laptop has no business on the network.
  AX650_SIM_BIND: '127.0.0.1',
  AX650_SIM_TOKENS_PER_SEC: '4.5',
  // ttft 1339 ms for a 27-token turn on a Pi 5 (Qwen3-4B README): the NPU always runs whole
  // 128-token prefill chunks, so the cost is per padded token: 1339 / 128 ≈ 10.46 ms.
  AX650_SIM_PREFILL_MS_PER_TOKEN: '10.46',
  // The real Qwen3-4B load is 133000 ms on a Pi 5; the default is short for laptops and CI.
  AX650_SIM_LOAD_MS: '2000',
  AX650_SIM_LISTEN_DELAY_MS: '50',
  AX650_SIM_START_DELAY_MS: '0',
  AX650_SIM_MAX_TOKEN_LEN: '2559',
  AX650_SIM_PREFILL_MAX: '2048',
});

/** Fast settings for tests: quick load and decode, still asynchronous everywhere. */
export const simulatorTestEnv: Readonly<Record<string, string>> = Object.freeze({
  AX650_SIM_TOKENS_PER_SEC: '400',
  AX650_SIM_PREFILL_MS_PER_TOKEN: '0.05',
  AX650_SIM_LOAD_MS: '60',
  AX650_SIM_LISTEN_DELAY_MS: '20',
});

function num(env: NodeJS.ProcessEnv, key: string, min: number): number {
  const raw = env[key] ?? simulatorEnvDefaults[key];
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < min) {
    throw new Error(`${key} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function optionalInt(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${key} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, key: string, allowed: readonly T[], aliasOfOne: T): T | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '' || raw === '0') return undefined;
  if (raw === '1') return aliasOfOne;
  const hit = allowed.find((a) => a === raw);
  if (hit === undefined) throw new Error(`${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return hit;
}

export function readSimConfig(env: NodeJS.ProcessEnv): SimConfig {
  const contextFull = env['AX650_SIM_CONTEXT_FULL'];
  if (contextFull !== undefined && contextFull !== '' && contextFull !== 'wedge' && contextFull !== 'fixed') {
    throw new Error(`AX650_SIM_CONTEXT_FULL must be wedge or fixed, got ${JSON.stringify(contextFull)}`);
  }
  const bind = env['AX650_SIM_BIND'] || simulatorEnvDefaults['AX650_SIM_BIND']!;
  if (!isIP(bind)) throw new Error(`AX650_SIM_BIND must be an IP address such as 127.0.0.1 or 0.0.0.0, got ${JSON.stringify(bind)}`);
  return {
    port: num(env, 'AX650_SIM_PORT', 1),
    bind,
    tokensPerSec: num(env, 'AX650_SIM_TOKENS_PER_SEC', 0.001),
    prefillMsPerToken: num(env, 'AX650_SIM_PREFILL_MS_PER_TOKEN', 0),
    loadMs: num(env, 'AX650_SIM_LOAD_MS', 0),
    listenDelayMs: num(env, 'AX650_SIM_LISTEN_DELAY_MS', 0),
    startDelayMs: num(env, 'AX650_SIM_START_DELAY_MS', 0),
    replyTokens: optionalInt(env, 'AX650_SIM_REPLY_TOKENS'),
    reply: env['AX650_SIM_REPLY'] || undefined,
    seed: env['AX650_SIM_SEED'] ?? '',
    crashAfterTokens: optionalInt(env, 'AX650_SIM_CRASH_AFTER_TOKENS'),
    hang: oneOf<HangMode>(env, 'AX650_SIM_HANG', ['load', 'generate', 'wedge'], 'generate'),
    faultPrompt: env['AX650_SIM_FAULT_PROMPT'] || undefined,
    toolScript: parseToolScript(env['AX650_SIM_TOOL_SCRIPT']),
    replyScript: parseReplyScript(env['AX650_SIM_REPLY_SCRIPT']),
    initFail: oneOf<InitFailMode>(env, 'AX650_SIM_INIT_FAIL', ['axmodel', 'post', 'embed', 'axcl'], 'axmodel'),
    deadCard: oneOf<DeadCardMode>(env, 'AX650_SIM_DEAD_CARD', ['load', 'generate', 'glued'], 'generate'),
    loadStallMs: optionalInt(env, 'AX650_SIM_LOAD_STALL') ?? 0,
    maxTokenLen: num(env, 'AX650_SIM_MAX_TOKEN_LEN', 2),
    prefillMax: num(env, 'AX650_SIM_PREFILL_MAX', 1),
    contextFull: contextFull === 'wedge' ? 'wedge' : 'fixed',
    logFile: env['AX650_SIM_LOG'] || undefined,
    argv0: env['AX650_SIM_ARGV0'] || undefined,
    // `stdbuf -oL` works by exporting _STDBUF_O=L to an LD_PRELOAD shim that calls setvbuf.
    stdbuf: env['_STDBUF_O'] === 'L' ? 'line' : env['_STDBUF_O'] === '0' ? 'unbuffered' : undefined,
  };
}
