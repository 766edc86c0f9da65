// Puts the non-TypeScript parts of each node beside its compiled .js, the layout Node-RED's
// registry requires: <node>.html, locales/<lang>/<node>.{json,html} and icons/ next to the file.
import { cpSync, existsSync, mkdirSync, readdirSync, chmodSync } from 'node:fs';
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
// Data files that compiled code reads at run time (fixtures, simulator assets).
for (const dir of ['simulator/assets', 'test/fixtures']) {
  if (existsSync(join(root, dir))) cpSync(join(root, dir), join(dist, dir), { recursive: true });
}
for (const bin of ['dist/simulator/cli.js', 'dist/lib/tokenizer/cli.js']) {
  if (existsSync(join(root, bin))) chmodSync(join(root, bin), 0o755);
}
