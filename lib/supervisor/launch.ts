/**
 * Turns a SpawnSpec into the exact argv and environment to exec, checking up front what would
 * otherwise fail inside a wrapper: under `stdbuf`, a missing or non-executable program is only an
 * exit status 126/127 of stdbuf, not a spawn error, so the checks happen here first.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Ax650Error } from '../errors';

export interface SpawnSpec {
  /** Short label for logs and errors ("runtime", "tokenizer"). */
  name: string;
  command: string;
  args: string[];
  /** Working folder; the vendor runtime reads its model files relative to it. */
  cwd: string;
  /** Merged over process.env; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /**
   * Run under `stdbuf -oL` when it is on PATH: glibc fully buffers a piped stdout, and the vendor
   * binary (dynamically linked, so stdbuf's preload works) only flushes at some points.
   */
  lineBuffered?: boolean;
  /** Where to record pid + start time + owner marker for reapOrphan(). */
  pidFile?: string;
}

export interface Launch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export function mergeEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) if (v !== undefined) out[k] = v;
  return out;
}

/** Finds an executable file on PATH, or resolves a path relative to `cwd`. undefined if none. */
export function findExecutable(command: string, cwd: string, pathVar: string | undefined): string | undefined {
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (pathVar ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.find((p) => probe(p) === 'ok');
}

type Probe = 'ok' | 'ENOENT' | 'EACCES';

function probe(path: string): Probe {
  try {
    if (!statSync(path).isFile()) return 'EACCES';
  } catch {
    return 'ENOENT';
  }
  try {
    accessSync(path, constants.X_OK);
    return 'ok';
  } catch {
    return 'EACCES';
  }
}

export function spawnError(spec: SpawnSpec, code: string | undefined, cause?: unknown): Ax650Error {
  const params = { name: spec.name, command: spec.command };
  switch (code) {
    case 'ENOENT':
      return new Ax650Error('BINARY_MISSING', `Cannot start ${spec.name}: ${spec.command} was not found (ENOENT)`, { params, cause });
    case 'EACCES':
      return new Ax650Error('BINARY_NOT_EXECUTABLE', `Cannot start ${spec.name}: ${spec.command} is not executable (EACCES)`, { params, cause });
    case 'ENOEXEC':
      return new Ax650Error('BINARY_WRONG_ARCH', `Cannot start ${spec.name}: ${spec.command} is not a program this machine can run (ENOEXEC)`, { params, cause });
    default:
      return new Ax650Error('INTERNAL', `Cannot start ${spec.name}: ${spec.command} failed to spawn (${code ?? 'unknown error'})`, { params, cause });
  }
}

export function planLaunch(spec: SpawnSpec): Launch {
  if (!spec.name || !spec.command) throw new Ax650Error('CONFIG_INVALID', 'A child process needs a name and a command');
  let cwdOk = false;
  try {
    cwdOk = statSync(spec.cwd).isDirectory();
  } catch {
    cwdOk = false;
  }
  if (!cwdOk) {
    throw new Ax650Error('CONFIG_INVALID', `Cannot start ${spec.name}: working folder ${spec.cwd} does not exist`, {
      params: { name: spec.name, cwd: spec.cwd },
    });
  }
  const env = mergeEnv(spec.env);
  const stdbuf = spec.lineBuffered ? findExecutable('stdbuf', spec.cwd, env.PATH) : undefined;
  // Unwrapped, a bad program is reported by spawn itself ('error' before 'spawn').
  if (!stdbuf) return { file: spec.command, args: [...spec.args], env };
  if (!findExecutable(spec.command, spec.cwd, env.PATH)) {
    const candidate = spec.command.includes('/') ? resolve(spec.cwd, spec.command) : undefined;
    throw spawnError(spec, candidate !== undefined && probe(candidate) === 'EACCES' ? 'EACCES' : onPathCode(spec, env.PATH));
  }
  return { file: stdbuf, args: ['-oL', spec.command, ...spec.args], env };
}

/** A bare name is EACCES when some PATH entry has it but none may be executed. */
function onPathCode(spec: SpawnSpec, pathVar: string | undefined): 'ENOENT' | 'EACCES' {
  if (spec.command.includes('/')) return 'ENOENT';
  const dirs = (pathVar ?? '').split(delimiter).filter(Boolean);
  return dirs.some((dir) => probe(join(dir, spec.command)) === 'EACCES') ? 'EACCES' : 'ENOENT';
}
