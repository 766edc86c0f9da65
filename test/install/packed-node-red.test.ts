/**
 * Issue #17.2: the packed package works on its own. npm pack → a fresh user folder → the palette
 * manager's `npm install --omit=dev --engine-strict <tarball>` → this leg's Node-RED (4.1 on Node 20, 5 on
 * Node 22) with the shipped example `generate-basic` as flows.json (runtime in its shipped `auto` mode:
 * the simulator, since no card is present) → the example's own "Ask" inject, triggered over the admin
 * API → the reply in its debug node → `/nodes` lists every node type without error → Node-RED stopped
 * → no process of the package left. This is the test that catches a run-time need on a dev dependency.
 * A second tab describes a PNG with a simulated VL model (issue 16): sharp, a dependency with native
 * binaries, must resolve and load in the installed package; and runs one tool round (issue 15) through an
 * ax650-tool / ax650-tool-result branch: ajv validates the arguments from the installed package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { nodeRedPackage, nodeRedVersion } from '../helpers/nr';
import { freeLoopbackPort, processTree, repoRoot, startNodeRed } from '../helpers/node-red-process';
import { simulatorTestEnv } from '../../simulator/env';
import { alive } from '../editor/flows';
import { packAndInstall, PKG_NAME, processesUnder } from './packed';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { RED, solid } from '../vision/images';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const EXAMPLE = 'generate-basic';
const ASK = 'c0a1e9b2f7d34e02';
const REPLY_DEBUG = 'c0a1e9b2f7d34e07';
const ERROR_DEBUG = 'c0a1e9b2f7d34e11';

const LOOK = 'packed-vision-look';
const SEEN_DEBUG = 'packed-vision-seen';
const GRIP = 'packed-tools-grip';
const GRIP_ARGS_DEBUG = 'packed-tools-args';
const GRIPPED_DEBUG = 'packed-tools-final';
const GRIPPED_STATS_DEBUG = 'packed-tools-stats';
/** The scripted model: one call of `grip` in Qwen3's format, then the answer after the tool's result. */
const TOOL_SCRIPT = [{ calls: [{ name: 'grip', arguments: { closed: true } }] }, { text: 'The gripper is closed.' }];

/**
 * A VL runtime (simulator, axllm kind) and inject → change → generate → debug, the image a PNG in the inject;
 * and inject → generate (toolbox "arm") with the tool `grip` as a branch: ax650-tool → change → ax650-tool-result.
 */
async function visionTab(modelDir: string): Promise<FlowNode[]> {
  const png = await solid(32, 24, RED, 'png');
  const z = 'packed-vision-tab';
  return [
    { id: z, type: 'tab', label: 'vision' },
    { id: 'packed-vision-rt', type: 'ax650-runtime', name: 'VL', mode: 'simulator', runtime: 'axllm', modelDir, binary: '', devices: 'auto', systemPrompt: '', tokenizerMode: 'builtin', tokenizerPort: await freeLoopbackPort(), tokenizerUrl: '', startOn: 'deploy', queueLimit: 8, loadStallSec: 60, maxCrashes: 5, modelName: 'qwen3-vl', flags: '', simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT) }), runtimePort: await freeLoopbackPort() },
    { id: LOOK, z, type: 'inject', name: 'Look', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: JSON.stringify([...png]), payloadType: 'bin', x: 100, y: 100, wires: [['packed-vision-change']] },
    { id: 'packed-vision-change', z, type: 'change', name: '', rules: [{ t: 'move', p: 'payload', pt: 'msg', to: 'image', tot: 'msg' }, { t: 'set', p: 'payload', pt: 'msg', to: 'What do you see?', tot: 'str' }], x: 250, y: 100, wires: [['packed-vision-gen']] },
    { id: 'packed-vision-gen', z, type: 'ax650-generate', runtime: 'packed-vision-rt', x: 400, y: 100, wires: [[], [SEEN_DEBUG]] },
    { id: SEEN_DEBUG, z, type: 'debug', name: 'seen', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 550, y: 100, wires: [] },
    { id: GRIP, z, type: 'inject', name: 'Grip', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: 'Close the gripper.', payloadType: 'str', x: 100, y: 200, wires: [['packed-tools-gen']] },
    { id: 'packed-tools-gen', z, type: 'ax650-generate', runtime: 'packed-vision-rt', toolbox: 'arm', maxRounds: 4, toolTimeout: 30, format: '', schema: '', x: 300, y: 200, wires: [[], [GRIPPED_DEBUG, GRIPPED_STATS_DEBUG]] },
    { id: 'packed-tools-tool', z, type: 'ax650-tool', name: '', toolName: 'grip', description: 'Open or close the gripper', schema: JSON.stringify({ type: 'object', properties: { closed: { type: 'boolean' } }, required: ['closed'] }), toolbox: 'arm', x: 100, y: 260, wires: [['packed-tools-done', GRIP_ARGS_DEBUG]] },
    { id: 'packed-tools-done', z, type: 'change', name: '', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"ok":true}', tot: 'json' }], x: 300, y: 260, wires: [['packed-tools-result']] },
    { id: 'packed-tools-result', z, type: 'ax650-tool-result', name: '', x: 500, y: 260, wires: [] },
    { id: GRIP_ARGS_DEBUG, z, type: 'debug', name: 'grip args', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 300, y: 320, wires: [] },
    { id: GRIPPED_DEBUG, z, type: 'debug', name: 'gripped', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 550, y: 200, wires: [] },
    // The sidebar cuts messages at 1000 characters: the stats get their own debug node.
    { id: GRIPPED_STATS_DEBUG, z, type: 'debug', name: 'gripped stats', active: true, tosidebar: true, console: false, tostatus: false, complete: 'stats', targetType: 'msg', x: 550, y: 240, wires: [] },
  ];
}

interface DebugEvent {
  id: string;
  msg: string;
  format?: string;
}

/** The example exactly as shipped, except where the NPU listens (free loopback ports) and how fast the fake model talks. */
async function exampleFlow(): Promise<FlowNode[]> {
  const nodes = JSON.parse(readFileSync(path.join(repoRoot, 'examples', `${EXAMPLE}.json`), 'utf8')) as FlowNode[];
  const runtime = nodes.find((n) => n.type === 'ax650-runtime');
  assert.ok(runtime, `${EXAMPLE} has a runtime node`);
  assert.equal(runtime['mode'], 'auto', 'the example ships in auto mode');
  runtime['runtimePort'] = await freeLoopbackPort();
  runtime['tokenizerPort'] = await freeLoopbackPort();
  runtime['simEnv'] = JSON.stringify(simulatorTestEnv);
  const tab = { id: 'packed-tab', type: 'tab', label: EXAMPLE };
  return [tab, ...nodes.map((n) => ('x' in n ? { ...n, z: tab.id } : n))];
}

/** The editor's debug sidebar feed: Node-RED's /comms websocket, subscribed to `debug`. */
function debugFeed(url: string): Promise<{ events: DebugEvent[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const events: DebugEvent[] = [];
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ subscribe: 'debug' }));
      resolve({ events, close: () => ws.close() });
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const parsed = JSON.parse(data.toString()) as unknown;
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        const { topic, data: body } = m as { topic?: string; data?: DebugEvent };
        if (topic === 'debug' && body) events.push(body);
      }
    });
  });
}

async function waitFor<T>(what: string, ms: number, probe: () => T | undefined, context: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = probe();
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${context().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(`packed tarball installed with --omit=dev --engine-strict runs example ${EXAMPLE} on Node-RED ${nodeRedVersion()} (Node ${process.versions.node})`, async () => {
  const pack = packAndInstall();
  // The tarball holds only what runs, and the licence text.
  assert.deepEqual(pack.files.filter((f) => /^dist\/(test|bench)\/|\.map$/.test(f)), [], 'no compiled test, benchmark or source map in the tarball');
  assert.ok(pack.files.includes('LICENSE'), `LICENSE in the tarball: ${pack.files.join(' ')}`);
  assert.match(readFileSync(path.join(pack.installed, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  let nr: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  let seen: number[] = [];
  let left: ReturnType<typeof processesUnder> = [];
  const vlDir = mkdtempSync(path.join(os.tmpdir(), 'ax650-packed-vl-'));
  try {
    await createAxllmSimModelDir(path.join(vlDir, 'model'), { vision: true, axmodelNum: 2 });
    nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir: pack.userDir, flows: [...(await exampleFlow()), ...(await visionTab(path.join(vlDir, 'model')))], linkPackage: false });
    const feed = await debugFeed(nr.url);
    try {
      // The example's "Ask" button, pressed the way the editor does it.
      const press = await fetch(`${nr.url}/inject/${ASK}`, { method: 'POST' });
      assert.equal(press.status, 200, await press.text());
      const log = (): string => `${nr!.output()}\ndebug: ${JSON.stringify(feed.events)}`;
      const event = await waitFor('the reply in the "reply + stats" debug node', 60_000, () => {
        const failed = feed.events.find((e) => e.id === ERROR_DEBUG);
        if (failed) throw new Error(`the example's catch node reported an error: ${failed.msg}\n${nr!.output()}`);
        return feed.events.find((e) => e.id === REPLY_DEBUG);
      }, log);
      const msg = JSON.parse(event.msg) as { payload?: unknown; stats?: { completionTokens?: number; doneReason?: string } };
      assert.equal(typeof msg.payload, 'string');
      assert.ok((msg.payload as string).trim().length > 0, 'a reply with text');
      assert.ok((msg.stats?.completionTokens ?? 0) > 0, `stats: ${JSON.stringify(msg.stats)}`);
      assert.equal(msg.stats?.doneReason, 'stop');

      // A PNG described by the VL model: sharp loads from the installed package's own dependencies.
      const look = await fetch(`${nr.url}/inject/${LOOK}`, { method: 'POST' });
      assert.equal(look.status, 200, await look.text());
      const seenEvent = await waitFor('the description in the "seen" debug node', 60_000, () => feed.events.find((e) => e.id === SEEN_DEBUG), log);
      assert.match(seenEvent.msg, /I see a 32x24 PNG image, mostly red/);

      // One tool round: the branch gets the validated arguments, the final answer counts the call.
      const grip = await fetch(`${nr.url}/inject/${GRIP}`, { method: 'POST' });
      assert.equal(grip.status, 200, await grip.text());
      const final = await waitFor('the answer in the "gripped" debug node', 60_000, () => feed.events.find((e) => e.id === GRIPPED_DEBUG), log);
      const args = feed.events.find((e) => e.id === GRIP_ARGS_DEBUG);
      assert.deepEqual(JSON.parse(args?.msg ?? 'null'), { closed: true }, 'the tool branch got the validated arguments');
      assert.equal(final.msg, 'The gripper is closed.');
      const stats = await waitFor('the stats in the "gripped stats" debug node', 5_000, () => feed.events.find((e) => e.id === GRIPPED_STATS_DEBUG), log);
      const toolCalls = (JSON.parse(stats.msg) as { toolCalls?: Array<{ name: string; arguments: unknown; result: unknown }> }).toolCalls;
      assert.deepEqual(toolCalls?.map((c) => [c.name, c.arguments, c.result]), [['grip', { closed: true }, { ok: true }]], stats.msg);

      // The runtime ran from the installed package, not from this repository.
      seen = processTree(nr.pid);
      const fromPackage = processesUnder(pack.installed);
      assert.ok(fromPackage.some((p) => p.cmdline.includes(path.join(pack.installed, 'dist', 'simulator'))), `a simulator from ${pack.installed} runs: ${JSON.stringify(fromPackage)}`);
      assert.equal(processesUnder(path.join(repoRoot, 'dist')).filter((p) => seen.includes(p.pid)).length, 0, 'nothing under Node-RED runs from the repository');
    } finally {
      feed.close();
    }

    const res = await fetch(`${nr.url}/nodes`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = (await res.json()) as Array<{ module: string; name: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === PKG_NAME);
    const pkg = JSON.parse(readFileSync(path.join(pack.installed, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), Object.keys(pkg['node-red'].nodes).sort());
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.name}: ${set.err}`);
      assert.equal(set.enabled, true, `${set.name} enabled`);
    }
    assert.doesNotMatch(nr.output(), /\[error\]/, nr.output());

    // The check command is installed with the package and loads without dev dependencies.
    const help = spawnSync(path.join(pack.userDir, 'node_modules', '.bin', 'ax650-check'), ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${help.error?.message ?? ''}${help.stderr}`);
    assert.match(help.stderr, /^usage: ax650-check/);
  } finally {
    await nr?.stop();
    // Listed before the folder goes: a process left running would still name it.
    left = processesUnder(pack.userDir);
    pack.cleanup();
    rmSync(vlDir, { recursive: true, force: true });
  }
  assert.deepEqual(left, [], 'no process of the installed package left');
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
  for (const pid of seen) assert.equal(alive(pid), false, `process ${pid} started under Node-RED is gone`);
});
