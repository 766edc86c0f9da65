/**
 * Every example under Import › Examples deploys without errors in a real Node-RED (this leg's
 * version) with the package and Dashboard 2 installed: all examples together on their own tabs,
 * one runtime on the simulator, the MQTT bridge on a local broker, the HTTP API on a free port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { nodeRedPackage, nodeRedVersion } from '../helpers/nr';
import { exampleFlows, freeLoopbackPort, processTree, repoRoot, startNodeRed } from '../helpers/node-red-process';
import { startAedes } from '../mqtt/brokers';
import { alive, DASHBOARD, simulatorRuntime, waitForText } from './flows';

const pkgName = '@axnpu/node-red-ax650';
const exampleFiles = readdirSync(path.join(repoRoot, 'examples')).filter((f) => f.endsWith('.json')).sort();

test(`every example imports and deploys without errors on Node-RED ${nodeRedVersion()}`, async () => {
  const broker = await startAedes();
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, modules: [DASHBOARD] });
  let children: number[] = [];
  try {
    // What Import › Examples lists and loads: the editor's library endpoints.
    const listed = (await (await fetch(`${nr.url}/library/examples/flows/${pkgName}`)).json()) as Array<{ fn?: string }>;
    assert.deepEqual(listed.map((e) => e.fn).sort(), exampleFiles.map((f) => path.basename(f, '.json')), 'Import › Examples lists every file');
    for (const f of exampleFiles) {
      const r = await fetch(`${nr.url}/library/examples/flows/${pkgName}/${path.basename(f, '.json')}`);
      assert.equal(r.status, 200, f);
      const nodes = JSON.parse(await r.text()) as unknown[];
      assert.ok(Array.isArray(nodes) && nodes.length > 0, `${f} is a flow`);
    }

    const flows = exampleFlows(await simulatorRuntime('examples-runtime'), exampleFiles);
    for (const n of flows) {
      if (n.type === 'ax650-mqtt') n['broker'] = broker.url;
      if (n.type === 'ax650-api') n['port'] = await freeLoopbackPort();
    }
    const before = nr.output().length;
    const res = await fetch(`${nr.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(res.status, 204, await res.text());
    const since = (): string => nr.output().slice(before);
    await waitForText(since, /NPU runtime ready after|\[error\]|Waiting for missing types/, 60_000);
    await waitForText(since, 'Dashboard', 10_000);

    const log = since();
    assert.doesNotMatch(log, /\[error\]/, log);
    assert.doesNotMatch(log, /Waiting for missing types/, log);
    assert.match(log, /NPU runtime ready after/);

    const deployed = (await (await fetch(`${nr.url}/flows`)).json()) as Array<{ id: string }>;
    const ids = new Set(deployed.map((n) => n.id));
    for (const n of flows) assert.ok(ids.has(n.id), `${n.type} ${n.id} deployed`);
    assert.equal((await fetch(`${nr.url}/dashboard/ax650-chat`)).status, 200, 'the dashboard chat page is served');
    children = processTree(nr.pid);
    assert.ok(children.length > 0, 'the simulator runs under Node-RED');
  } finally {
    await nr.stop();
    await broker.close();
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
  for (const pid of children) assert.equal(alive(pid), false, `child ${pid} gone`);
});
