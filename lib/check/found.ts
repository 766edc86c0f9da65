/**
 * The "Found" part of the ax650-check report: the runtime kind, the folder, binary and flags the runtime
 * node would use, the cards axcl-smi lists and their CMM (device memory) figures.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { probeSmi, readCmmInfo } from '../device/probes';
import { checkFolder } from '../runtime/check-folder';
import type { RuntimeConfig } from '../runtime/config';
import { binaryPath } from '../runtime/launcher';
import type { CheckReport } from './report';

const FOUND = 'Found';

/** The runtime kind as the config names it; the 2025 main_api runtime when the config has no kind field. */
export function runtimeKind(cfg: RuntimeConfig): string {
  const kind: unknown = (cfg as unknown as Record<string, unknown>)['kind'];
  return typeof kind === 'string' && kind !== '' ? kind : 'main-api (2025 layout, G1 /api)';
}

/** Hardware mode: every problem Check folder finds, at once, before anything is spawned. Returns false when there are any. */
export async function reportFolderProblems(report: CheckReport, modelDir: string, binary: string | undefined): Promise<boolean> {
  const result = await checkFolder(binary ? { modelDir, binary } : { modelDir });
  if (result.script) report.add(FOUND, 'run script', result.script);
  for (const p of result.problems) report.add(FOUND, 'folder', `${p.code}: ${p.message}`, 'fail');
  return result.problems.length === 0;
}

export function reportConfig(report: CheckReport, cfg: RuntimeConfig, why: string): void {
  report.add(FOUND, 'runtime kind', runtimeKind(cfg));
  report.add(FOUND, 'mode', cfg.simulator ? `simulator (${why})` : 'hardware');
  report.add(FOUND, 'binary', cfg.simulator ? `${binaryPath(cfg)} (the package's simulator runs in its place)` : binaryPath(cfg));
  report.add(FOUND, 'model folder', cfg.modelDir);
  const layers = cfg.flags['axmodel_num'] ?? '?';
  const tokenizer = path.join(cfg.modelDir, 'qwen3_tokenizer', 'tokenizer.json');
  report.add(FOUND, 'model', `${cfg.modelName}: ${layers} decoder layers (${cfg.flags['template_filename_axmodel'] ?? 'no layer template'}), tokenizer ${existsSync(tokenizer) ? tokenizer : 'MISSING'}`);
  report.add(FOUND, 'devices', cfg.devices);
}

/** Cards and CMM from axcl-smi (lib/device probes). Without the card (simulator) a missing tool is information, not a failure. */
export async function reportCard(report: CheckReport, cfg: RuntimeConfig): Promise<void> {
  const smi = await probeSmi({});
  if (!smi.present) {
    report.add(FOUND, 'card', 'axcl-smi is not installed (AXCL driver package missing)', cfg.simulator ? 'info' : 'fail');
    report.add(FOUND, 'CMM', 'not read (no axcl-smi)');
    return;
  }
  if (!smi.ok) {
    report.add(FOUND, 'card', `axcl-smi failed: ${smi.message ?? smi.error ?? 'unknown error'}`, cfg.simulator ? 'warn' : 'fail');
    report.add(FOUND, 'CMM', 'not read (axcl-smi failed)');
    return;
  }
  report.add(FOUND, 'axcl-smi', `axcl-smi ${smi.smiVersion ?? '?'}, driver ${smi.driverVersion ?? '?'}, ${smi.cards.length} card(s)`);
  for (const c of smi.cards) {
    const mem = c.memoryUsedMiB !== null && c.memoryTotalMiB !== null ? `, memory ${c.memoryUsedMiB}/${c.memoryTotalMiB} MiB` : '';
    report.add(FOUND, `card ${c.index}`, `${c.name}, firmware ${c.firmware}, PCIe ${c.busId}${mem}`);
  }
  if (cfg.simulator) {
    report.add(FOUND, 'CMM', 'not read (simulator run)');
    return;
  }
  for (const index of cfg.devices.split(',').map(Number)) {
    const cmm = await readCmmInfo(index, {});
    if (cmm.ok) {
      const mib = (kib: number): string => `${Math.round(kib / 1024)} MiB`;
      report.add(FOUND, `CMM card ${index}`, `used ${mib(cmm.info.usedKiB)} of ${mib(cmm.info.totalKiB)}, ${mib(cmm.info.remainKiB)} free`);
    } else {
      report.add(FOUND, `CMM card ${index}`, `axcl-smi info --cmm failed: ${cmm.message}`, 'warn');
    }
  }
}
