/**
 * A whole Node-RED process with this package installed the way a user installs it (a link in the
 * user directory's node_modules), so the registry loads it from package.json exactly as on a Pi.
 * Used by the load test (both Node-RED legs) and by `npm start`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { freeLoopbackPort } from '../../lib/device/free-port';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../..');
const pkgName = '@axnpu/node-red-ax650';

export { freeLoopbackPort };

/**
 * Node-RED runs in its own process group (so a SIGKILL test can kill it alone); if the test process
 * itself dies (a runner timeout, an external kill), its Node-RED children must not outlive it.
 */
const liveGroups = new Set<number>();
// SIGTERM, not SIGKILL: Node-RED then closes its flows itself, which ends the runtime and tokenizer it
// started (their own process groups), even after this process is gone.
function stopLiveGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}
process.once('exit', stopLiveGroups);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    stopLiveGroups();
    // A caller with its own handler (the demo) shuts down itself; otherwise end as the signal would have.
    if (process.listenerCount(signal) === 0) process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

export interface NodeRedProcess {
  url: string;
  port: number;
  pid: number;
  userDir: string;
  output(): string;
  stop(): Promise<void>;
}

export interface NodeRedOptions {
  /** Which Node-RED package runs (`node-red` or `node-red-5`). */
  nodeRed?: string;
  /** The Node binary to run it with. */
  nodeBin?: string;
  port?: number;
  userDir?: string;
  flows?: unknown[];
  /** Extra settings.js content (object literal members). */
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Also copy Node-RED's output to this process's stdout (the demo). */
  echo?: boolean;
  /** Other packages from this repo's node_modules to install beside it (e.g. `@flowfuse/node-red-dashboard`). */
  modules?: string[];
  /** false: `userDir` already has the package installed (the packed-install test); do not link this repo. */
  linkPackage?: boolean;
}

function link(userDir: string, name: string, target: string): void {
  const at = path.join(userDir, 'node_modules', name);
  mkdirSync(path.dirname(at), { recursive: true });
  if (!existsSync(at)) symlinkSync(target, at, 'dir');
}

/**
 * Installs this package into `userDir` as a symlink, like `npm install <path>` would, and links
 * `modules` from this repo's node_modules beside it (Node-RED only scans the user directory).
 */
export function linkPackage(userDir: string, modules: readonly string[] = []): void {
  link(userDir, pkgName, repoRoot);
  const dependencies: Record<string, string> = { [pkgName]: `file:${repoRoot}` };
  for (const name of modules) {
    const target = path.join(repoRoot, 'node_modules', name);
    if (!existsSync(path.join(target, 'package.json'))) throw new Error(`${name} is not installed in ${path.join(repoRoot, 'node_modules')}; run npm install`);
    link(userDir, name, target);
    dependencies[name] = `file:${target}`;
  }
  writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, dependencies }, null, 2));
}

/** Every live descendant of `pid` (children started in their own process groups included), from /proc. */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 (ppid) follows the command name, which may itself contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // The process ended while the table was read.
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) if (pp === p) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

/**
 * Every `examples/*.json` on a tab of its own, all user nodes pointed at the ONE runtime node given
 * (one runtime per host: a second would fight for port 8000). The demo and the example tests use it.
 */
export function exampleFlows(runtime: FlowNode, files?: readonly string[]): FlowNode[] {
  const dir = path.join(repoRoot, 'examples');
  const names = files ?? readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const flows: FlowNode[] = [runtime];
  // Examples that share a config node (the one Dashboard 2 ui-base and its theme) carry it under the same id: once.
  const ids = new Set<string>([runtime.id]);
  for (const file of names) {
    const nodes = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as FlowNode[];
    const tab = `example-tab-${path.basename(file, '.json')}`;
    flows.push({ id: tab, type: 'tab', label: path.basename(file, '.json') });
    const runtimes = new Set(nodes.filter((n) => n.type === 'ax650-runtime').map((n) => n.id));
    for (const n of nodes) {
      if (runtimes.has(n.id) || n.type === 'tab' || ids.has(n.id)) continue;
      ids.add(n.id);
      if (typeof n['runtime'] === 'string' && runtimes.has(n['runtime'])) n['runtime'] = runtime.id;
      if ('x' in n) n['z'] = tab;
      flows.push(n);
    }
  }
  return flows;
}

/** SIGKILL to Node-RED alone (no shutdown: what the OOM killer or a power-cut watchdog does); resolves once it is gone. */
export async function killNodeRed(nr: Pick<NodeRedProcess, 'pid'>): Promise<void> {
  process.kill(nr.pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(nr.pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`Node-RED (pid ${nr.pid}) outlived SIGKILL by 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startNodeRed(opts: NodeRedOptions = {}): Promise<NodeRedProcess> {
  const port = opts.port ?? (await freeLoopbackPort());
  const userDir = opts.userDir ?? mkdtempSync(path.join(os.tmpdir(), 'ax650-nr-'));
  const ownsDir = opts.userDir === undefined;
  if (opts.linkPackage !== false) linkPackage(userDir, opts.modules);
  if (opts.flows) writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 2));
  const settings = { uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } }, ...opts.settings };
  writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const redJs = require.resolve(`${opts.nodeRed ?? 'node-red'}/red.js`);
  const child: ChildProcess = spawn(opts.nodeBin ?? process.execPath, [redJs, '-u', userDir, '-s', path.join(userDir, 'settings.js')], {
    cwd: userDir,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (opts.echo) process.stdout.write(d);
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    if (opts.echo) process.stderr.write(d);
  });
  if (child.pid !== undefined) liveGroups.add(child.pid);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      resolve();
    }),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    if (ownsDir) rmSync(userDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      // With flows, "Server now running" comes before the flows (and their HTTP routes) start: wait for that too.
      const ready = opts.flows ? /\] Started flows/ : /Server now running at/;
      const onData = () => {
        if (opts.flows && /Waiting for missing types/.test(out) && /Server now running at/.test(out)) {
          cleanup();
          reject(new Error(`Node-RED is waiting for node types that are not installed:\n${out}`));
        } else if (ready.test(out)) {
          cleanup();
          resolve();
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`Node-RED exited during start-up:\n${out}`));
      };
      const cleanup = () => {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
      };
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
      onData();
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${port}`, port, pid: child.pid!, userDir, output: () => out, stop };
}
