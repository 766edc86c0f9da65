/**
 * The package as a user installs it: Node-RED's registry loads every node type from package.json,
 * with its editor HTML, help and message catalogs — on this leg's Node-RED (4.1 on Node 20 or 5 on
 * Node 22, chosen by AX650_NODE_RED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeRedPackage, nodeRedVersion } from '../helpers/nr';
import { repoRoot, startNodeRed } from '../helpers/node-red-process';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };

test(`Node-RED ${nodeRedVersion()} (${nodeRedPackage}) on Node ${process.versions.node} loads every node type`, async () => {
  const nr = await startNodeRed({ nodeRed: nodeRedPackage });
  try {
    const res = await fetch(`${nr.url}/nodes`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = (await res.json()) as Array<{ module: string; name: string; types: string[]; enabled: boolean; err?: string }>;
    const ours = sets.filter((s) => s.module === pkg.name);
    const expected = Object.keys(pkg['node-red'].nodes).sort();
    assert.deepEqual(ours.map((s) => s.name).sort(), expected, nr.output());
    for (const set of ours) {
      assert.equal(set.err, undefined, `${set.name}: ${set.err}`);
      assert.equal(set.enabled, true, `${set.name} enabled`);
      assert.deepEqual(set.types, [set.name], `${set.name} registers its type`);
    }
    const html = await (await fetch(`${nr.url}/nodes`, { headers: { accept: 'text/html' } })).text();
    for (const type of ours.flatMap((s) => s.types)) {
      assert.match(html, new RegExp(`registerType\\(['"]${type}['"]`), `editor definition of ${type}`);
      assert.match(html, new RegExp(`data-help-name="${type}"`), `help text of ${type}`);
    }
    const catalog = (await (await fetch(`${nr.url}/locales/${pkg.name}/ax650-generate?lng=en-US`)).json()) as Record<string, unknown>;
    assert.ok(catalog['ax650-generate'], 'message catalog served');
  } finally {
    await nr.stop();
  }
  assert.throws(() => process.kill(nr.pid, 0), 'Node-RED process gone');
});
