/**
 * `npm run bench [name…]`: runs the row modules one after another (never in parallel: they would
 * measure each other on a 2-core machine), prints one table, writes bench/results/<date>.json and
 * bench/results/latest.json. A module that throws becomes a missed row carrying the error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorText, notMeasured, type BenchRow, type RowModule } from './lib/row';
import { markdownTable } from './lib/table';
import { axllmDirectRows } from './rows/axllm-direct';
import { axllmRows } from './rows/axllm';
import { deliveryRows } from './rows/delivery';
import { mqttLatencyRows } from './rows/mqtt-latency';
import { mqttSoakRows } from './rows/mqtt-soak';
import { nodeRedProcessRows } from './rows/node-red-process';
import { nodeRedStreamingRows } from './rows/node-red-streaming';
import { packageLoadRows } from './rows/package-load';
import { repairRoundRows } from './rows/repair-round';
import { resetAheadRows } from './rows/reset-ahead';
import { saturationRows } from './rows/saturation';
import { tokenizerRows } from './rows/tokenizer';
import { visionRows } from './rows/vision';

interface Entry {
  name: string;
  run: RowModule;
  /** Targets of the rows it yields, so a failed module still shows what was missed. */
  targets: string[];
}

const MODULES: Entry[] = [
  { name: 'package-load', run: packageLoadRows, targets: ['require ≤ 100 ms', 'no heavy module at load'] },
  { name: 'tokenizer', run: tokenizerRows, targets: ['ready ≤ 1.5 s', 'RSS added ≤ 200 MB', 'encode p99 ≤ 10 ms'] },
  { name: 'delivery', run: deliveryRows, targets: ['delivery ratio ≥ 0.99', 'added TTFT median ≤ 60 ms', 'HTTP ratio ≥ 0.98'] },
  { name: 'saturation', run: saturationRows, targets: ['0 deltas lost or reordered', 'throughput ratio ≥ 0.95'] },
  { name: 'node-red-process', run: nodeRedProcessRows, targets: ['0 requests idle', 'idle CPU ≤ 1 %', 'generation CPU ≤ 3 %'] },
  { name: 'mqtt-latency', run: mqttLatencyRows, targets: ['MQTT added first-delta median ≤ 15 ms'] },
  { name: 'mqtt-soak', run: mqttSoakRows, targets: ['0 lost, 0 duplicated', 'RSS growth ≤ 10 %'] },
  { name: 'reset-ahead', run: resetAheadRows, targets: ['TTFT with reset-ahead < without'] },
  { name: 'axllm', run: axllmRows, targets: ['delivery ratio ≥ 0.995', 'added TTFT median ≤ 10 ms', '0 requests idle', 'CPU ≤ 2 %'] },
  { name: 'node-red-streaming', run: nodeRedStreamingRows, targets: ['Node-RED CPU streaming at 4.5 tok/s ≤ 2 % (main-api)', 'the same (axllm)'] },
  { name: 'repair-round', run: repairRoundRows, targets: ['one repair round measured'] },
  { name: 'axllm-direct', run: axllmDirectRows, targets: ['ten clients straight at axllm: 503s reported'] },
  { name: 'vision', run: visionRows, targets: ['prepare a 1280×720 JPEG ≤ 100 ms', 'request ratio ≤ 1.5', 'memory per image ≤ 0.5 MiB'] },
];

const resultsDir = path.resolve(__dirname, '../../bench/results');

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !MODULES.some((m) => m.name === w));
  if (unknown.length > 0) throw new Error(`unknown bench module(s) ${unknown.join(', ')}; known: ${MODULES.map((m) => m.name).join(', ')}`);
  const chosen = wanted.length === 0 ? MODULES : MODULES.filter((m) => wanted.includes(m.name));
  const rows: BenchRow[] = [];
  const timings: Record<string, number> = {};
  const started = new Date();
  for (const m of chosen) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${m.name}…\n`);
    try {
      rows.push(...(await m.run()));
    } catch (e) {
      rows.push(notMeasured(`${m.name} (module failed)`, m.targets.join('; '), errorText(e)));
    }
    timings[m.name] = Math.round(performance.now() - t0);
    process.stderr.write(`bench: ${m.name} took ${(timings[m.name]! / 1000).toFixed(1)} s\n`);
  }
  const table = markdownTable(rows);
  process.stdout.write(`${table}\n`);
  const result = {
    date: started.toISOString(),
    host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.arch()}`, load: os.loadavg() },
    modules: chosen.map((m) => m.name),
    durationsMs: timings,
    rows: rows.map((r) => ({ ...r, value: Number.isNaN(r.value) ? null : r.value })),
    table,
  };
  await mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  if (chosen.length === MODULES.length) {
    await writeFile(path.join(resultsDir, `${stamp}.json`), json);
    await writeFile(path.join(resultsDir, 'latest.json'), json);
  } else {
    // A subset is a development run: kept out of the history of full runs (git-ignored).
    await writeFile(path.join(resultsDir, 'partial.json'), json);
  }
  const missed = rows.filter((r) => !r.pass).length;
  process.stderr.write(`bench: ${rows.length - missed}/${rows.length} targets met; results in ${path.relative(process.cwd(), resultsDir)}/\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
