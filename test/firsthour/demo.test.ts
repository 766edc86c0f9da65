/**
 * #17.4, `npm start` (scripts/demo.mjs) as a user runs it: after Ctrl-C no `ax650-mosq-*` folder is
 * left in the temp folder and no process of the demo runs; a flow edited in the editor (deployed
 * through the admin API, as the Deploy button does) is still there after the next start; --reset
 * (and AX650_DEMO_RESET=1) brings the examples back. The camera example answers a PNG upload: without a model
 * folder of the user's it runs on the demo's simulated VL runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort, processTree, repoRoot } from '../helpers/node-red-process';
import { alive, waitForText } from '../editor/flows';
import { RED, solid } from '../vision/images';

interface Demo {
  url: string;
  output(): string;
  /** Ctrl-C; resolves with the exit code once the demo and everything it started are gone. */
  stop(): Promise<number | null>;
}

async function startDemo(env: Record<string, string>, args: string[] = []): Promise<Demo> {
  const port = await freeLoopbackPort();
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/demo.mjs'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), AX650_DEMO_MQTT_PORT: String(await freeLoopbackPort()), AX650_MODE: 'simulator', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    const tree = processTree(child.pid!);
    // Ctrl-C in a terminal signals the whole foreground group.
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    for (const pid of tree) {
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(pid), false, `demo process ${pid} gone`);
    }
    return code;
  };
  try {
    await waitForText(() => out, /Dashboard chat:|Error|exited/, 120_000);
    await waitForText(() => out, /NPU runtime ready after|\[error\]/, 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url: `http://127.0.0.1:${port}`, output: () => out, stop };
}

async function flows(url: string): Promise<Array<{ id: string; type: string; name?: string }>> {
  return (await (await fetch(`${url}/flows`)).json()) as Array<{ id: string; type: string; name?: string }>;
}

test('the demo leaves no temp folders, keeps flow edits across starts, and resets on request', async () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'ax650-demo-test-'));
  const tmp = path.join(base, 'tmp');
  mkdirSync(tmp);
  const env = { AX650_DEMO_DIR: path.join(base, 'demo'), TMPDIR: tmp };
  const mosqDirs = (): string[] => readdirSync(tmp).filter((f) => f.startsWith('ax650-mosq-'));
  try {
    let demo = await startDemo(env);
    assert.match(demo.output(), /example flows written to/);
    const first = await flows(demo.url);
    assert.ok(first.some((n) => n.type === 'ax650-generate'), 'the examples are deployed');
    // The camera example's upload endpoint, as its help says to call it.
    await waitForText(() => demo.output(), /\[ax650-runtime:VL \(demo simulator\)\] NPU runtime ready after/, 60_000);
    const described = await fetch(`${demo.url}/camera/describe`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: await solid(64, 48, RED, 'png') });
    const text = await described.text();
    assert.equal(described.status, 200, text);
    assert.match(text, /I see a 64x48 PNG image, mostly red/);
    const edited = [...first, { id: 'f1a57ed17ed00001', type: 'comment', z: first.find((n) => n.type === 'tab')!.id, name: 'my own note', x: 600, y: 600, wires: [] }];
    const res = await fetch(`${demo.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(edited) });
    assert.equal(res.status, 204, await res.text());
    assert.equal(await demo.stop(), 0);
    assert.deepEqual(mosqDirs(), [], 'no ax650-mosq-* folder after the demo stopped');

    demo = await startDemo(env);
    assert.match(demo.output(), /Using the flows kept in/);
    assert.ok((await flows(demo.url)).some((n) => n.name === 'my own note'), 'the edit survived a restart');
    assert.equal(await demo.stop(), 0);

    demo = await startDemo({ ...env, AX650_DEMO_RESET: '1' });
    assert.match(demo.output(), /Reset: the example flows written to/);
    const reset = await flows(demo.url);
    assert.equal(reset.some((n) => n.name === 'my own note'), false, 'the reset brought back the examples only');
    assert.ok(reset.some((n) => n.type === 'ax650-generate'));
    assert.equal(await demo.stop(), 0);
    assert.deepEqual(mosqDirs(), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
