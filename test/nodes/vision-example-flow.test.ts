/**
 * The vision examples run in real Node-RED, for the runtime kind under test: each Snapshot reads a
 * frame with the core file-in node, the change node moves it to msg.image, and the generate node's
 * output 2 carries the answer (axllm with a VL folder), or the Catch node gets VISION_UNSUPPORTED
 * (the 2025 runtime has no vision).
 * - examples/vision-camera.json: a 1280×720 snapshot described;
 * - examples/vision-gripper-json.json: "is the gripper holding something?" with the node's JSON-Schema
 *   reply format: output 2's payload is the validated object and the switch routes on it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { simulatorTestEnv } from '../../simulator/env';
import { createKindModelDir, TEST_KIND } from '../helpers/kind';
import { freeLoopbackPort, repoRoot } from '../helpers/node-red-process';
import { coreNode, generateNode, getHelper, runtimeNode, type FlowNode } from '../helpers/nr';
import type { NodeMessage } from '../../nodes/red-types';
import { cameraFrame } from '../vision/images';

const helper = getHelper();
let dir = '';

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-vision-example-'));
  await helper.startServer();
});
after(async () => {
  await helper.unload();
  await helper.stopServer();
  await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  final?: NodeMessage;
  caught?: NodeMessage;
  nodes: FlowNode[];
  simLog: string;
}

/**
 * Loads an example as Node-RED would import it (runtime pointed at a simulated VL folder, file-in at a
 * 1280×720 frame), wires a helper to the output `finalAt` picks and to the Catch node, presses the
 * Snapshot and resolves with what arrived first.
 */
async function runExample(file: string, opts: { name: string; finalAt: (nodes: FlowNode[]) => string[]; simEnv?: Record<string, string> }): Promise<Outcome> {
  await helper.unload(); // the previous example's flow, runtime and all
  const modelDir = path.join(dir, opts.name, 'model');
  await createKindModelDir(modelDir, { vision: true });
  const frameFile = path.join(dir, opts.name, 'latest.jpg');
  await writeFile(frameFile, await cameraFrame());
  const simLog = path.join(dir, opts.name, 'sim.log');
  const nodes = JSON.parse(await readFile(path.join(repoRoot, 'examples', file), 'utf8')) as FlowNode[];
  const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'example' }];
  for (const n of nodes) {
    if (n.type === 'ax650-runtime') {
      const simEnv = { ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_LOG: simLog, ...opts.simEnv };
      Object.assign(n, { mode: 'simulator', modelDir, tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(), simEnv: JSON.stringify(simEnv) });
    } else {
      n.z = 'tab';
    }
    if (n.type === 'file in') n['filename'] = frameFile;
    // The config node first, as the editor saves it: the generate node looks it up when it is created.
    if (n.type === 'ax650-runtime') flow.splice(1, 0, n);
    else flow.push(n);
  }
  const snapshot = nodes.find((n) => n.type === 'inject')!;
  const catcher = nodes.find((n) => n.type === 'catch')!;
  opts.finalAt(nodes).push('final');
  catcher['wires'] = [['caught']];
  flow.push({ id: 'final', z: 'tab', type: 'helper', x: 1, y: 1 }, { id: 'caught', z: 'tab', type: 'helper', x: 1, y: 1 });
  await helper.load(
    [
      runtimeNode(), generateNode(), coreNode('common/20-inject.js'), coreNode('storage/10-file.js'), coreNode('function/15-change.js'), coreNode('function/10-switch.js'),
      coreNode('network/21-httpin.js'), coreNode('common/21-debug.js'), coreNode('common/90-comment.js'),
    ],
    flow,
  );
  const rt = helper.getNode(nodes.find((n) => n.type === 'ax650-runtime')!.id) as unknown as { runtime: { start(): Promise<void> } };
  await rt.runtime.start();
  const got = new Promise<Outcome>((resolve) => {
    helper.getNode('final')!.on('input', (m: NodeMessage) => resolve({ final: m, nodes, simLog }));
    helper.getNode('caught')!.on('input', (m: NodeMessage) => resolve({ caught: m, nodes, simLog }));
  });
  helper.getNode(snapshot.id)!.receive({});
  return got;
}

/** The wires of output `index` of the example's node of `type`. */
function outputOf(nodes: FlowNode[], type: string, index: number): string[] {
  return (nodes.find((n) => n.type === type)!['wires'] as string[][])[index]!;
}

function assertNoVision(out: Outcome): void {
  assert.ok(out.caught, 'an error at the Catch node');
  const err = out.caught.error as { message: string; code?: string };
  assert.equal(err.code, 'VISION_UNSUPPORTED');
  assert.match(err.message, /2025 main_api runtime, which cannot take images at all/);
}

test(`the camera example describes a 1280×720 snapshot (${TEST_KIND})`, async () => {
  const out = await runExample('vision-camera.json', { name: 'camera', finalAt: (nodes) => outputOf(nodes, 'ax650-generate', 1) });
  if (TEST_KIND !== 'axllm') return assertNoVision(out);
  assert.ok(out.final, `a description, not an error: ${JSON.stringify(out.caught?.error)}`);
  assert.match(String(out.final.payload), /I see a 448x252 JPEG image/);
});

test(`the gripper example answers with the schema's object, and the switch routes on it (${TEST_KIND})`, async () => {
  // The scripted model answers in JSON (the simulator's reply script), the package validates it against the example's schema.
  const out = await runExample('vision-gripper-json.json', {
    name: 'gripper',
    finalAt: (nodes) => outputOf(nodes, 'switch', 0),
    simEnv: { AX650_SIM_REPLY_SCRIPT: JSON.stringify(['{"holding": true, "object": "red cube"}']) },
  });
  if (TEST_KIND !== 'axllm') return assertNoVision(out);
  assert.ok(out.final, `the "holding" branch, not an error: ${JSON.stringify(out.caught?.error)}`);
  assert.deepEqual(out.final.payload, { holding: true, object: 'red cube' });
  // The frame reached the model downscaled, together with the schema the package asked it to follow.
  const chats = (await readFile(out.simLog, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const images = chats.filter((e) => e['event'] === 'chat').map((e) => (e['images'] as Array<{ format: string; width: number; height: number }> | undefined) ?? []);
  assert.deepEqual(images.at(-1)?.map((i) => [i.format, i.width, i.height]), [['jpeg', 448, 252]]);
  assert.ok(chats.some((e) => e['event'] === 'request' && JSON.stringify(e['body']).includes('\\"holding\\"')), 'the request carries the schema');
});
