import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';

const CLI = path.resolve(__dirname, '../../lib/tokenizer/cli.js');

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r: Run = { child, stdout: '', stderr: '', exit: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]> };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (r.stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (r.stderr += c));
  return r;
}

/** Resolves with the URL once the line is printed; rejects if the process exits first. */
function readyUrl(r: Run): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const m = /^Server running at (http:\/\/\S+)$/m.exec(r.stdout);
      if (m?.[1]) resolve(m[1]);
    };
    r.child.stdout?.on('data', check);
    r.exit.then(([code]) => reject(new Error(`exited with ${code} before ready: ${r.stderr}`)), reject);
  });
}

function assertGone(pid: number | undefined): void {
  assert.ok(pid);
  assert.throws(() => process.kill(pid, 0), (e: NodeJS.ErrnoException) => e.code === 'ESRCH');
}

describe('ax650-tokenizer CLI', () => {
  let modelDir: string;
  let cleanup: () => Promise<void>;
  const started: ChildProcess[] = [];

  before(async () => {
    const model = await makeTokenizerModelDir();
    modelDir = model.dir;
    cleanup = model.cleanup;
  });
  after(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await cleanup();
  });

  it('prints the line once listening, serves, and exits 0 on SIGINT', async () => {
    const r = run(['--model-dir', modelDir, '--port', '0', '--max-sessions', '4']);
    started.push(r.child);
    const url = await readyUrl(r);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const uid = ((await (await fetch(`${url}/get_uid`)).json()) as { uid: string }).uid;
    assert.equal(await (await fetch(`${url}/eos_id?uid=${uid}`)).text(), '{"eos_id": 151645}');
    r.child.kill('SIGINT');
    assert.deepEqual(await r.exit, [0, null]);
    assertGone(r.child.pid);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = run(['--model-dir', modelDir, '--port', String(port)]);
      started.push(r.child);
      const [code] = await r.exit;
      assert.equal(code, 1);
      assert.match(r.stderr, new RegExp(`TOKENIZER_PORT_IN_USE: Tokenizer port 127\\.0\\.0\\.1:${port} is already in use`));
      assert.equal(r.stdout, '');
      assertGone(r.child.pid);
    } finally {
      blocker.close();
    }
  });

  it('exits 1 with a clear message when the model folder is missing or arguments are wrong', async () => {
    const missing = run(['--model-dir', path.join(modelDir, 'nope')]);
    const noArgs = run([]);
    const badPort = run(['--model-dir', modelDir, '--port', 'x']);
    started.push(missing.child, noArgs.child, badPort.child);
    assert.equal((await missing.exit)[0], 1);
    assert.match(missing.stderr, /MODEL_FILES_MISSING: Model folder not found: .*nope/);
    assert.equal((await noArgs.exit)[0], 1);
    assert.match(noArgs.stderr, /--model-dir is required/);
    assert.equal((await badPort.exit)[0], 1);
    assert.match(badPort.stderr, /--port must be an integer/);
  });

  it('documents the session bound in --help', async () => {
    const r = run(['--help']);
    started.push(r.child);
    assert.equal((await r.exit)[0], 0);
    assert.match(r.stdout, /--max-sessions N\s+uid sessions kept \(default 64\)/);
  });
});
