/** Runs a compiled bench script in a fresh Node process (clean heap, clean module cache) and parses the JSON it prints last. */
import { spawn } from 'node:child_process';
import { isAlive } from '../../test/helpers/sim';

export async function runJsonChild(script: string, args: string[] = [], nodeBin = process.execPath): Promise<unknown> {
  const child = spawn(nodeBin, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  if (child.pid !== undefined && isAlive(child.pid)) throw new Error(`${script} (pid ${child.pid}) outlived its exit`);
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${err.slice(-1000)}`);
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as unknown;
}
