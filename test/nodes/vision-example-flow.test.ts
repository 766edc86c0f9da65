/**
 * The camera example (examples/vision-camera.json) run in real Node-RED, for the runtime kind under
 * test: its Snapshot reads a frame with the core file-in node, the change node moves it to
 * msg.image, and the generate node's output 2 carries the description (axllm with a VL folder), or
 * the Catch node gets VISION_UNSUPPORTED (the 2025 runtime has no vision).
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
});
after(async () => {
  await helper.unload();
  await helper.stopServer();
  await rm(dir, { recursive: true, force: true });
});

test(`the camera example describes a 1280×720 snapshot (${TEST_KIND})`, async () => {
  const modelDir = path.join(dir, 'model');
  await createKindModelDir(modelDir, { vision: true });
  const frameFile = path.join(dir, 'latest.jpg');
  await writeFile(frameFile, await cameraFrame());
  const nodes = JSON.parse(await readFile(path.join(repoRoot, 'examples/vision-camera.json'), 'utf8')) as FlowNode[];
  const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'example' }];
  for (const n of nodes) {
    if (n.type === 'ax650-runtime') {
      Object.assign(n, { mode: 'simulator', modelDir, tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(), simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '400' }) });
    } else {
      n.z = 'tab';
    }
    if (n.type === 'file in') n['filename'] = frameFile;
    // The config node first, as the editor saves it: the generate node looks it up when it is created.
    if (n.type === 'ax650-runtime') flow.splice(1, 0, n);
    else flow.push(n);
  }
  const gen = nodes.find((n) => n.type === 'ax650-generate')!;
  const snapshot = nodes.find((n) => n.type === 'inject')!;
  const catcher = nodes.find((n) => n.type === 'catch')!;
  (gen['wires'] as string[][])[1]!.push('final');
  catcher['wires'] = [['caught']];
  flow.push({ id: 'final', z: 'tab', type: 'helper', x: 1, y: 1 }, { id: 'caught', z: 'tab', type: 'helper', x: 1, y: 1 });
  await helper.startServer();
  await helper.load(
    [runtimeNode(), generateNode(), coreNode('common/20-inject.js'), coreNode('storage/10-file.js'), coreNode('function/15-change.js'), coreNode('network/21-httpin.js'), coreNode('common/21-debug.js'), coreNode('common/90-comment.js')],
    flow,
  );
  const rt = helper.getNode(nodes.find((n) => n.type === 'ax650-runtime')!.id) as unknown as { runtime: { start(): Promise<void> } };
  await rt.runtime.start();
  const got = new Promise<{ final?: NodeMessage; caught?: NodeMessage }>((resolve) => {
    helper.getNode('final')!.on('input', (m: NodeMessage) => resolve({ final: m }));
    helper.getNode('caught')!.on('input', (m: NodeMessage) => resolve({ caught: m }));
  });
  helper.getNode(snapshot.id)!.receive({});
  const out = await got;
  if (TEST_KIND === 'axllm') {
    assert.ok(out.final, `a description, not an error: ${JSON.stringify(out.caught?.error)}`);
    assert.match(String(out.final.payload), /I see a 448x252 JPEG image/);
  } else {
    assert.ok(out.caught, 'an error at the Catch node');
    assert.match(String((out.caught.error as { message: string }).message), /cannot see images/);
  }
});
