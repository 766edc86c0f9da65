/**
 * Issue 18 item 1, at the Runtime's level against the simulator: a runtime that stops producing
 * tokens mid-reply and ignores /api/stop and SIGINT (AX650_SIM_HANG=wedge, what a wedged NPU does).
 * The TIMEOUT reaches the caller at the idle timeout (± 2 s), before any stop; the runtime that does
 * not come back from the stop within stopBoundMs is ended and restarted (`restarts` + 1, health shows
 * RUNTIME_WEDGED); the prompt queued behind it is answered by the new process; nothing is left.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { isAlive, startSimRuntime, stopAll } from '../runtime/helpers';

after(stopAll);

const IDLE_MS = 3000;

test('a wedged runtime: TIMEOUT at the idle timeout, then the hung process is ended and restarted, and the queued prompt is answered', async () => {
  const s = await startSimRuntime({
    // Only the prompt naming WEDGE hangs, so the restarted process answers the next one.
    simEnv: { AX650_SIM_HANG: 'wedge', AX650_SIM_FAULT_PROMPT: 'WEDGE', AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_REPLY_TOKENS: '12' },
    config: { stopBoundMs: 2000 },
    timeouts: { firstTokenMs: 30_000, idleMs: IDLE_MS, totalMs: 120_000 },
  });
  const hungPid = s.rt.info().pid;
  assert.ok(hungPid !== null);
  assert.equal(s.rt.info().restarts, 0);

  const errorsSeen: string[] = [];
  s.rt.on('state', (_st, info) => {
    if (info.lastError) errorsSeen.push(info.lastError.code);
  });
  const wedged = s.rt.submit({ prompt: 'Please WEDGE in the middle of the reply.' });
  let lastDeltaAt = 0;
  wedged.on('delta', () => {
    lastDeltaAt = Date.now();
  });
  const next = s.rt.submit({ prompt: 'Are you back?' });
  const err = await wedged.result.then(
    () => assert.fail('the wedged prompt cannot succeed'),
    (e: unknown) => e,
  );
  const failedAt = Date.now();
  assert.ok(isAx650Error(err));
  assert.equal(err.code, 'TIMEOUT', err.message);
  assert.ok(lastDeltaAt > 0, 'the reply had started before the runtime hung');
  const late = failedAt - lastDeltaAt - IDLE_MS;
  assert.ok(Math.abs(late) <= 2000, `TIMEOUT came ${late} ms off the ${IDLE_MS} ms idle timeout`);
  assert.equal(isAlive(hungPid), true, 'the error came before the stop ran (the process is still there)');

  const r = await next.result;
  assert.equal(r.stats.doneReason, 'stop');
  assert.ok(r.text.length > 0);
  const info = await s.waitFor((st) => st === 'ready', 5000, 'ready after the answer');
  assert.equal(info.restarts, 1, 'the wedge counts as a restart');
  assert.notEqual(info.pid, hungPid);
  assert.equal(isAlive(hungPid), false, 'the hung process is gone');
  assert.deepEqual(
    s.states.map((x) => x.state).filter((x) => x === 'backoff'),
    ['backoff'],
    'one restart under the restart policy',
  );
  // Health reads info(): while the runtime restarted, lastError said why.
  assert.ok(errorsSeen.includes('RUNTIME_WEDGED'), `errors shown: ${errorsSeen.join(', ')}`);
  await s.stop();
});
