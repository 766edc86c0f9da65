/**
 * The package as the palette manager installs it: `npm pack` of this repository (already built), then
 * `npm install --omit=dev --engine-strict <tarball>` into a fresh Node-RED user folder, with no project
 * script run. Dependencies come from the npm cache (or the registry when the cache lacks them).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/node-red-process';

export const PKG_NAME = '@axnpu/node-red-ax650';

/** npm's own CLI script, so npm runs on this test's Node (engine-strict checks the Node that runs npm). */
export function npmCli(): string {
  const fromEnv = process.env['npm_execpath'];
  if (fromEnv && /npm-cli\.js$/.test(fromEnv) && existsSync(fromEnv)) return fromEnv;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (real.endsWith('.js')) return real;
  }
  throw new Error('npm not found on PATH (the packed-install test runs npm pack and npm install)');
}

function npm(args: string[], cwd: string): string {
  try {
    return execFileSync(process.execPath, [npmCli(), ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

export interface PackedInstall {
  /** The fresh Node-RED user folder with the package installed in node_modules. */
  userDir: string;
  /** Where the package landed. */
  installed: string;
  tarball: string;
  /** What the tarball holds, as npm pack listed it. */
  files: string[];
  /** Removes the tarball and the user folder. */
  cleanup(): void;
}

/** Packs the built repository and installs the tarball into a fresh user folder the way the palette manager does. */
export function packAndInstall(): PackedInstall {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ax650-packed-'));
  const cleanup = (): void => rmSync(root, { recursive: true, force: true });
  try {
    // --ignore-scripts: pack the dist/ this test runs from, without rebuilding it under the running suite.
    const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', root], repoRoot)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tarball = path.join(root, path.basename(packed[0]!.filename));
    const userDir = path.join(root, 'user');
    mkdirSync(userDir);
    // What Node-RED writes into a new user folder.
    writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 2));
    // Node-RED 4's palette manager line (@node-red/registry installer), plus --prefer-offline so the
    // dependencies come from the npm cache that `npm ci` filled.
    npm(['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', tarball], userDir);
    const installed = path.join(userDir, 'node_modules', ...PKG_NAME.split('/'));
    if (!existsSync(path.join(installed, 'package.json'))) throw new Error(`npm install put no ${PKG_NAME} into ${userDir}/node_modules`);
    return { userDir, installed, tarball, files: packed[0]!.files.map((f) => f.path), cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Every process whose command line mentions `dir` (the installed package's files, or the user folder). */
export function processesUnder(dir: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(dir)) out.push({ pid: Number(name), cmdline });
    } catch {
      // ended while listed
    }
  }
  return out;
}
