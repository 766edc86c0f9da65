/**
 * Child of rows/package-load.ts: requires every node file package.json declares, the way Node-RED
 * does at start, and reports how long that took and which heavy dependencies came along. Where the
 * runtime offers synchronous module hooks (Node ≥ 22.15), every resolution is recorded too, so an
 * ESM-only package (execa) pulled in by import() would be seen; require.cache alone misses ESM.
 */
import Module from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const HEAVY = ['execa', 'undici', 'mqtt', '@huggingface/tokenizers', '@huggingface/jinja', 'sharp', 'ajv'];

interface ResolveResult {
  url: string;
}
type RegisterHooks = (hooks: { resolve(specifier: string, context: unknown, next: (s: string, c: unknown) => ResolveResult): ResolveResult }) => void;

const resolved: string[] = [];
const registerHooks = (Module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
registerHooks?.({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    resolved.push(r.url);
    return r;
  },
});

const root = path.resolve(__dirname, '../../..');
const pkg = require(path.join(root, 'package.json')) as { 'node-red': { nodes: Record<string, string> } };
const files = Object.values(pkg['node-red'].nodes).map((f) => path.join(root, f));
const t0 = performance.now();
for (const f of files) require(f);
const ms = performance.now() - t0;

setImmediate(() => {
  const seen = [...Object.keys(require.cache), ...resolved];
  const loaded = HEAVY.filter((h) => seen.some((p) => p.includes(`/node_modules/${h}/`)));
  process.stdout.write(`${JSON.stringify({ ms, files: files.map((f) => path.relative(root, f)), loaded, hooks: registerHooks !== undefined, node: process.version })}\n`);
});
