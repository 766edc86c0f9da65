/**
 * ax650-runtime (config node): owns the tokenizer and the runtime binary (or the simulator) for one
 * host, and the single job queue in front of the NPU. User nodes register with it like the core
 * MQTT nodes do with their broker; state changes fan out to them. A thin adapter over lib/runtime.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { toAx650Error } from '../lib/errors';
import { checkFolder, parseCheckFolderBody } from '../lib/runtime/check-folder';
import { DeadCardWatch, parseKernelLogSetting } from '../lib/device/dead-card-watch';
import { defaultConfig, type TokenizerMode } from '../lib/runtime/config';
import { claimRuntimePort, releaseRuntimePort } from '../lib/runtime/host-registry';
import { launcherFor } from '../lib/runtime/launcher';
import { parseKindSetting } from '../lib/runtime/kind-detect';
import { Runtime } from '../lib/runtime/runtime';
import { simulatorProvider } from '../simulator/provider';
import { resolveRuntimeConfig, runPreflight, type RuntimeMode, type RuntimeSettings } from '../lib/runtime/settings';
import type { RuntimeInfo, RuntimeState } from '../lib/runtime/types';
import { StatusThrottle } from '../lib/generate/status';
import { errorText } from './shared/i18n';
import { persistConversations, type NodeContextStore } from './shared/conversation-persistence';
import { runtimeStatus, type RuntimeConfigNode } from './shared/runtime-node';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './red-types';

interface RuntimeDef extends NodeDef {
  modelDir?: string;
  /** auto (from the folder) | axllm | main-api. */
  runtime?: string;
  mode?: RuntimeMode;
  binary?: string;
  devices?: string;
  systemPrompt?: string;
  tokenizerMode?: TokenizerMode;
  tokenizerPort?: string | number;
  tokenizerUrl?: string;
  startOn?: 'deploy' | 'first-use';
  queueLimit?: string | number;
  loadStallSec?: string | number;
  maxCrashes?: string | number;
  /** Seconds a stop may take before the runtime is taken for wedged and restarted. */
  stopBoundSec?: string | number;
  modelName?: string;
  /** JSON object of runtime flag overrides, e.g. {"axmodel_num":"36"}. */
  flags?: string;
  /** JSON object of simulator knobs (AX650_SIM_*), for demos and tests. */
  simEnv?: string;
  runtimePort?: string | number;
  /** Where dead-card lines are read: "dmesg" (default), "off" or a file path. */
  kernelLog?: string;
  /** Context store (settings.js contextStorage name) that keeps conversations across restarts; '' = memory only. */
  persist?: string;
}

function int(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isInteger(n) ? n : fallback;
}

function jsonObject(text: string | undefined, what: string): Record<string, string> {
  if (!text || text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${what} must be a JSON object`);
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

export function settingsFrom(def: RuntimeDef, stateDir: string): RuntimeSettings {
  const s: RuntimeSettings = {
    modelDir: def.modelDir ?? '',
    runtime: parseKindSetting(def.runtime),
    mode: def.mode ?? 'auto',
    devices: def.devices || 'auto',
    tokenizerMode: def.tokenizerMode ?? 'builtin',
    tokenizerPort: int(def.tokenizerPort, 12345),
    queueLimit: int(def.queueLimit, 32),
    loadStallMs: int(def.loadStallSec, 60) * 1000,
    maxCrashes: int(def.maxCrashes, 5),
    flags: jsonObject(def.flags, 'flags'),
    simulatorEnv: jsonObject(def.simEnv, 'simulator settings'),
    stateDir,
  };
  if (def.binary) s.binary = def.binary;
  if (def.systemPrompt) s.systemPrompt = def.systemPrompt;
  if (def.tokenizerUrl) s.tokenizerUrl = def.tokenizerUrl;
  if (def.modelName) s.modelName = def.modelName;
  if (def.runtimePort !== undefined && def.runtimePort !== '') s.runtimePort = int(def.runtimePort, 8000);
  return s;
}

export default function register(RED: NodeAPI): void {
  function Ax650RuntimeNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this as RuntimeConfigNode;
    const cfgDef = def as RuntimeDef;
    const stateDir = path.join(RED.settings.userDir ?? os.tmpdir(), '.ax650');
    try {
      mkdirSync(stateDir, { recursive: true });
    } catch (e) {
      // A read-only SD card (EROFS) or a folder owned by another user: run without pid files, say so.
      node.warn(RED._('ax650-runtime.log.stateDir', { path: stateDir, code: (e as NodeJS.ErrnoException).code ?? String(e) }));
    }
    let settings: RuntimeSettings;
    let settingsError: Error | null = null;
    try {
      settings = settingsFrom(cfgDef, stateDir);
    } catch (e) {
      settingsError = e instanceof Error ? e : new Error(String(e));
      settings = { modelDir: cfgDef.modelDir ?? '', stateDir };
    }
    // Built synchronously so users can submit at once; the folder is resolved before the first spawn.
    // Everything that names a pid file (runtime port, tokenizer mode and port) is set now: the runtime reaps
    // orphans of a killed Node-RED before the folder is resolved.
    const cfg = defaultConfig({
      modelDir: settings.modelDir,
      stateDir,
      queueLimit: settings.queueLimit ?? 32,
      // The 2025 runtime always listens on 8000; axllm and the simulator where they are told.
      runtimePort: settings.mode === 'hardware' && settings.runtime === 'main-api' ? 8000 : settings.runtimePort ?? 8000,
      tokenizerMode: settings.tokenizerMode ?? 'builtin',
      tokenizerPort: settings.tokenizerPort ?? 12345,
    });
    cfg.restart.maxCrashes = settings.maxCrashes ?? cfg.restart.maxCrashes;
    const stopBoundSec = Number(cfgDef.stopBoundSec);
    if (cfgDef.stopBoundSec !== undefined && cfgDef.stopBoundSec !== '' && Number.isFinite(stopBoundSec) && stopBoundSec > 0) cfg.stopBoundMs = Math.round(stopBoundSec * 1000);
    const deadCard = new DeadCardWatch(parseKernelLogSetting(cfgDef.kernelLog));
    const runtime = new Runtime(cfg, {
      // The node layer chooses the simulator; lib/ only knows the SimulatorProvider interface.
      launcher: (c, url) => launcherFor(c, simulatorProvider)(c, url),
      preflight: async (c) => {
        if (settingsError) throw toAx650Error(settingsError, 'CONFIG_INVALID');
        const resolved = await resolveRuntimeConfig(settings, simulatorProvider);
        releaseRuntimePort(c.runtimePort, node.id);
        Object.assign(c, { ...resolved, queueLimit: c.queueLimit, restart: c.restart, stopBoundMs: c.stopBoundMs });
        claimRuntimePort(c.runtimePort, node.id);
        await runPreflight(c);
        if (deadCard.appliesTo(c)) await deadCard.mark();
      },
      // A card the kernel declared dead since the start only comes back with a reboot: fail instead of restart-looping.
      beforeRestart: async () => (deadCard.appliesTo(cfg) ? deadCard.check() : null),
    });
    node.runtime = runtime;
    runtime.on('warning', (message: string) => node.warn(RED._('ax650-runtime.log.warning', { message })));
    node.users = {};
    node.register = (user: Node) => {
      node.users[user.id] = user;
    };
    node.deregister = (user: Node, done: () => void) => {
      delete node.users[user.id];
      done();
    };

    const status = new StatusThrottle<NodeStatus>((s) => node.status(s), 500);
    let lastState: RuntimeState = 'stopped';
    // busy → ready after every reply is not a new load: readiness is logged once per load (readyAt changes per load).
    let loggedReadyAt: number | null = null;
    runtime.on('state', (state: RuntimeState, info: RuntimeInfo) => {
      status.set(runtimeStatus(RED, info, runtime.cfg.simulator), state === 'failed');
      if (state === lastState) return;
      lastState = state;
      if (state === 'ready' && info.readyAt !== loggedReadyAt) {
        loggedReadyAt = info.readyAt;
        const ms = info.readyAt && info.startedAt ? info.readyAt - info.startedAt : 0;
        node.log(RED._(runtime.cfg.simulator ? 'ax650-runtime.log.ready-simulator' : 'ax650-runtime.log.ready', { ms }));
      }
      if ((state === 'failed' || state === 'backoff') && info.lastError) {
        const err = runtime.info().lastError;
        node.error(RED._('ax650-runtime.log.' + state, { code: err?.code ?? '', message: err?.message ?? '' }));
      }
    });

    const persistStore = typeof cfgDef.persist === 'string' ? cfgDef.persist.trim() : '';
    const flushConversations = persistStore ? persistConversations(node as RuntimeConfigNode & { context(): NodeContextStore }, runtime.conversations, persistStore) : async () => undefined;

    if (cfgDef.startOn !== 'first-use') {
      runtime.start().catch((e: unknown) => node.debug(`start: ${errorText(RED, toAx650Error(e))}`));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      status.clear();
      flushConversations()
        .then(() => runtime.stop())
        .catch((e: unknown) => node.error(e instanceof Error ? e : String(e)))
        .finally(() => {
          releaseRuntimePort(cfg.runtimePort, node.id);
          done();
        });
    });
  }
  RED.nodes.registerType('ax650-runtime', Ax650RuntimeNode);

  // The dialog's "Check folder" button: reads the folder, the cards and the pre-flight problems.
  RED.httpAdmin.post('/ax650/check-folder', RED.auth.needsPermission('ax650-runtime.write'), (req, res) => {
    let request;
    try {
      request = parseCheckFolderBody(req.body);
    } catch (e) {
      res.status(400).json({ error: toAx650Error(e).message });
      return;
    }
    checkFolder(request).then(
      (result) => res.json(result),
      (e: unknown) => res.status(500).json({ error: toAx650Error(e).message }),
    );
  });
}
