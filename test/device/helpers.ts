import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isRunning } from '../../lib/supervisor/proc';

export const FIXTURES = path.resolve(__dirname, '../fixtures/axcl');
export const FAKE_SMI = path.join(FIXTURES, 'axcl-smi');
export const fixture = (name: string): string => path.join(FIXTURES, name);

/** The fake run through this Node, so the test does not depend on `node` being on PATH. */
export const SMI_CMD: readonly string[] = [process.execPath, FAKE_SMI];

/** A fake lspci/dmesg that prints a fixture file. */
export const printFile = (file: string): readonly string[] => [process.execPath, fixture('print-file.js'), file];

/** The test's environment with only the FAKE_SMI_* knobs given (none inherited from the outer shell). */
export function smiEnv(knobs: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FAKE_SMI_')) env[k] = v;
  return { ...env, ...knobs };
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ax650-device-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Gone = no such process, or a zombie (dead; only its parent's reaping is pending). */
export const isGone = (pid: number): boolean => !isRunning(pid);

/** Polls a condition until it holds or the deadline passes (SIGKILL takes effect when the process is next scheduled). */
export async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
