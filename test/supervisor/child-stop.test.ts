import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DEFAULT_STOP } from '../../lib/supervisor';
import { assertGone, exitOf, recordLines, startFixture, waitForLine } from './helpers';

const grandchildPid = (line: string): number | undefined => {
  const m = /^grandchild (\d+)$/.exec(line);
  return m ? Number(m[1]) : undefined;
};

async function startForker(t: TestContext, args: string[] = []) {
  const child = await startFixture(t, 'forker.js', args);
  const [pidLine] = await Promise.all([
    waitForLine(child, (l) => grandchildPid(l) !== undefined),
    waitForLine(child, (l) => l === 'grandchild ready'),
  ]);
  const gc = grandchildPid(pidLine);
  assert.ok(gc !== undefined);
  return { child, gc };
}

test('the default stop sequence fits inside Node-RED\'s 15 s close budget', () => {
  assert.ok(DEFAULT_STOP.sigintMs + DEFAULT_STOP.sigtermMs + DEFAULT_STOP.sigkillMs < 15_000);
});

test('stop() ends the whole process group: child and grandchild', async (t) => {
  const { child, gc } = await startForker(t);
  const info = await child.stop();
  assert.deepEqual(info, { code: null, signal: 'SIGINT', stopped: true });
  assert.equal(child.exited, true);
  assertGone(child.pid, gc);
});

test('a grandchild that ignores SIGINT and SIGTERM is killed with the group, after the leader left on SIGINT', async (t) => {
  const { child, gc } = await startForker(t, ['stubborn-grandchild']);
  const info = await child.stop({ sigintMs: 300, sigtermMs: 300 });
  assert.equal(info.signal, 'SIGINT', 'the leader itself obeyed SIGINT');
  assertGone(child.pid, gc);
});

test('a child that ignores SIGINT is ended by SIGTERM', async (t) => {
  const child = await startFixture(t, 'stubborn.js', ['SIGINT']);
  const seen = recordLines(child);
  await waitForLine(child, (l) => l === 'ready');
  const t0 = Date.now();
  const info = await child.stop({ sigintMs: 300, sigtermMs: 5000 });
  assert.ok(Date.now() - t0 >= 300, 'SIGINT was given its grace period');
  assert.deepEqual(info, { code: null, signal: 'SIGTERM', stopped: true });
  assert.ok(seen.some((s) => s.line === 'got SIGINT'));
  assertGone(child.pid);
});

test('a child that ignores SIGINT and SIGTERM is SIGKILLed, and stop() still resolves within its bound', async (t) => {
  const child = await startFixture(t, 'stubborn.js', ['SIGINT,SIGTERM']);
  const seen = recordLines(child);
  await waitForLine(child, (l) => l === 'ready');
  const t0 = Date.now();
  const info = await child.stop({ sigintMs: 300, sigtermMs: 300 });
  const elapsed = Date.now() - t0;
  assert.deepEqual(info, { code: null, signal: 'SIGKILL', stopped: true });
  assert.deepEqual(seen.map((s) => s.line), ['ready', 'got SIGINT', 'got SIGTERM']);
  assert.ok(elapsed >= 600, `waited after SIGINT and SIGTERM (${elapsed} ms)`);
  assert.ok(elapsed < 15_000, `inside the close budget (${elapsed} ms)`);
  assertGone(child.pid);
});

test('stop() is idempotent and safe after exit; kill() after exit is a no-op', async (t) => {
  const child = await startFixture(t, 'stubborn.js');
  await waitForLine(child, (l) => l === 'ready');
  const a = child.stop();
  const b = child.stop({ sigintMs: 1 });
  assert.equal(a, b, 'a second call returns the same promise');
  const info = await a;
  assert.deepEqual(await child.stop(), info);
  child.kill('SIGKILL');
  assertGone(child.pid);
});

test('an unexpected death is reported with stopped: false', async (t) => {
  const child = await startFixture(t, 'stubborn.js', ['SIGINT,SIGTERM']);
  await waitForLine(child, (l) => l === 'ready');
  child.kill('SIGKILL');
  assert.deepEqual(await exitOf(child), { code: null, signal: 'SIGKILL', stopped: false });
  assertGone(child.pid);
});

test('a crashed leader takes its forked helpers with it', async (t) => {
  const { child, gc } = await startForker(t, ['stubborn-grandchild']);
  process.kill(child.pid, 'SIGKILL');
  assert.deepEqual(await exitOf(child), { code: null, signal: 'SIGKILL', stopped: false });
  assertGone(child.pid, gc);
});

