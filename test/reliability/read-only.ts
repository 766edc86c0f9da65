/**
 * A folder the package cannot write, the way a robot meets it: an SD card the kernel remounted
 * read-only after a power fault (EROFS). As root (CI containers) a tmpfs is mounted, a stale pid file
 * put in, and the mount turned read-only; as another user the folder is made 0555 (EACCES). null
 * when neither is possible here (the caller skips and says why).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ReadOnlyDir {
  dir: string;
  /** The errno the package meets writing there. */
  code: 'EROFS' | 'EACCES';
  release(): void;
}

export function makeReadOnlyDir(dir: string, staleFile?: { name: string; content: string }): ReadOnlyDir | null {
  mkdirSync(dir, { recursive: true });
  const writeStale = (): void => {
    if (staleFile) writeFileSync(path.join(dir, staleFile.name), staleFile.content);
  };
  if (process.getuid?.() === 0) {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'ax650-ro-test', dir], { stdio: 'ignore' });
    } catch {
      return null;
    }
    writeStale();
    execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'ignore' });
    return { dir, code: 'EROFS', release: () => execFileSync('umount', [dir], { stdio: 'ignore' }) };
  }
  writeStale();
  chmodSync(dir, 0o555);
  return { dir, code: 'EACCES', release: () => chmodSync(dir, 0o755) };
}
