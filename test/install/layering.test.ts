/**
 * lib/ is a plain library that never needs the simulator (issue #19.7): no file under lib/ names a path
 * inside simulator/ (imports, requires, dynamic imports, or a path.resolve(__dirname, …) to a file there),
 * and the data lib reads at run time (the bundled chat template) lives under lib/ itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUNDLED_TEMPLATE_CONFIG } from '../../lib/tokenizer/chat-template';
import { repoRoot } from '../helpers/node-red-process';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

/** Every string literal in `text` that is a relative path resolving into `forbidden` from `file`'s folder. */
export function pathsInto(file: string, text: string, forbidden: string): string[] {
  const hits: string[] = [];
  for (const m of text.matchAll(/(['"`])(\.{1,2}\/[^'"`\n]*)\1/g)) {
    const target = path.resolve(path.dirname(file), m[2]!);
    if (target === forbidden || target.startsWith(forbidden + path.sep)) hits.push(m[2]!);
  }
  // A path built from segments: path.join(__dirname, '..', '..', 'simulator', ...).
  for (const m of text.matchAll(/path\.(?:join|resolve)\([^)]*['"`]simulator['"`]/g)) hits.push(m[0]);
  // Package-style self references (`@axnpu/node-red-ax650/dist/simulator/...`) count too.
  for (const m of text.matchAll(/['"`]@axnpu\/node-red-ax650\/(?:dist\/)?simulator\b[^'"`]*['"`]/g)) hits.push(m[0]);
  return hits;
}

const simulatorDir = path.join(repoRoot, 'simulator');

test('the scan finds an import of simulator/ (so the next test can fail)', () => {
  const file = path.join(repoRoot, 'lib', 'runtime', 'x.ts');
  assert.deepEqual(pathsInto(file, "import { a } from '../../simulator/model-dir';", simulatorDir), ['../../simulator/model-dir']);
  assert.deepEqual(pathsInto(file, "const cli = path.resolve(__dirname, '../../simulator/cli.js');", simulatorDir), ['../../simulator/cli.js']);
  assert.deepEqual(pathsInto(file, "await import(\"../../simulator\")", simulatorDir), ['../../simulator']);
  assert.deepEqual(pathsInto(file, "path.join(__dirname, '..', '..', 'simulator', 'cli.js')", simulatorDir).length, 1);
  assert.deepEqual(pathsInto(file, "import { b } from '../tokenizer/chat-template';", simulatorDir), []);
  assert.deepEqual(pathsInto(file, "const simulator = s.mode === 'simulator';", simulatorDir), []);
});

test('no file under lib/ imports or reads from simulator/', () => {
  const files = sources(path.join(repoRoot, 'lib'));
  assert.ok(files.length > 50, `lib/ sources found: ${files.length}`);
  const offenders = files.flatMap((f) => pathsInto(f, readFileSync(f, 'utf8'), simulatorDir).map((hit) => `${path.relative(repoRoot, f)}: ${hit}`));
  assert.deepEqual(offenders, [], 'lib/ must not depend on simulator/ (the node layer hands lib a SimulatorProvider)');
});

test('the chat template the built-in tokenizer falls back to ships under lib/', () => {
  const distLib = path.join(repoRoot, 'dist', 'lib');
  assert.ok(BUNDLED_TEMPLATE_CONFIG.startsWith(distLib + path.sep), BUNDLED_TEMPLATE_CONFIG);
  assert.ok(existsSync(BUNDLED_TEMPLATE_CONFIG), `${BUNDLED_TEMPLATE_CONFIG} is built`);
});
