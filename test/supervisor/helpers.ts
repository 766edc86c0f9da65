import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { once } from 'node:events';
import { ManagedChild, type ChildStream, type ExitInfo, type SpawnSpec } from '../../lib/supervisor';

/** Compiled tests live in dist/test/supervisor; the build copies fixtures to dist/test/fixtures. */
export const CHILDREN = path.resolve(__dirname, '../fixtures/children');
export const SUPERVISOR_LIB = path.resolve(__dirname, '../../lib/supervisor/index.js');

export function fixture(name: string): string {
  return path.join(CHILDREN, name);
}

/** Starts a fixture child that is stopped when the test ends, also when an assertion failed. */
export async function startFixture(t: TestContext, script: string, args: string[] = [], extra: Partial<SpawnSpec> = {}): Promise<ManagedChild> {
  const child = await ManagedChild.start({ name: script, command: process.execPath, args: [fixture(script), ...args], cwd: CHILDREN, ...extra });
  t.after(async () => {
    await child.stop({ sigintMs: 200, sigtermMs: 200 });
  });
  return child;
}

export interface SeenLine {
  line: string;
  stream: ChildStream;
}

/** Records every line from the moment of the call. */
export function recordLines(child: ManagedChild): SeenLine[] {
  const seen: SeenLine[] = [];
  child.on('line', (line, stream) => seen.push({ line, stream }));
  return seen;
}

/** Resolves with the first line matching `pred`; rejects if the child exits first. */
export function waitForLine(child: ManagedChild, pred: (line: string, stream: ChildStream) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const onLine = (line: string, stream: ChildStream): void => {
      if (!pred(line, stream)) return;
      cleanup();
      resolve(line);
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`${child.name} exited before the expected line; tail:\n${child.tail()}`));
    };
    const cleanup = (): void => {
      child.off('line', onLine);
      child.off('exit', onExit);
    };
    child.on('line', onLine);
    child.on('exit', onExit);
  });
}

export async function exitOf(child: ManagedChild): Promise<ExitInfo> {
  if (child.exitInfo) return child.exitInfo;
  const [info] = (await once(child, 'exit')) as [ExitInfo];
  return info;
}

/**
 * The pid no longer names a running process. A zombie (state Z, waiting for a reaper that is not
 * ours, e.g. PID 1 in a container) has already exited, so it counts as gone.
 */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ESRCH');
    return true;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, '').trimStart().startsWith('Z ');
  } catch {
    return true;
  }
}

export function assertGone(...pids: number[]): void {
  for (const pid of pids) assert.ok(isGone(pid), `pid ${pid} is still running`);
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ax650-sup-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
