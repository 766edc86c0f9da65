/**
 * Issue 18 item 2, at the Runtime's level: the AXCL `device N is dead` report glued to the end of
 * token text (the runtime prints the reply without a newline) and split across two reads
 * (AX650_SIM_DEAD_CARD=glued). The prompt fails with DEAD_CARD at once, the runtime is not restarted
 * (dead-card policy: only a reboot helps) and its process is gone. A prompt that contains such a
 * report itself does not fake a dead card.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { DeadCardScanner } from '../../lib/device/dead-card-watch';
import { isAlive, startSimRuntime, stopAll } from '../runtime/helpers';

after(stopAll);

const REPORT = '[2026-03-01 10:00:00.123][4242][W][device manager][listen][292]: device 1 is dead\n';

test('the scanner finds the report glued to text and split at every possible point, once', () => {
  const glued = `Echo: the robot waves${REPORT}[2026-03-01 10:00:00.124][4242][C][device][print][18]: allocated device memories: 226\n`;
  for (let cut = 1; cut < glued.length; cut++) {
    const s = new DeadCardScanner();
    const found = [s.push(glued.slice(0, cut)), s.push(glued.slice(cut))].filter((d) => d !== null);
    assert.deepEqual(found, [1], `cut at ${cut}`);
  }
  assert.equal(new DeadCardScanner().push('The robot said: device 2 is dead\n'), null, 'prose is not a report');
  // The rest of the report (the allocation dump) often comes in the same read, far longer than the carry-over.
  const long = new DeadCardScanner();
  assert.equal(long.push('Echo: hello[2026-03-01 10:00:00.123][4242][W][devi'), null);
  assert.equal(long.push(`ce manager][listen][292]: device 1 is dead\n${'[2026-03-01 10:00:00.124][4242][C][device][print][20]: [0x14c000000] : 0x19f0000 bytes\n'.repeat(40)}`), 1);
});

test('a dead-card report glued to token text fails the prompt with DEAD_CARD at once; no restart, no process left', async () => {
  const s = await startSimRuntime({
    simEnv: { AX650_SIM_DEAD_CARD: 'glued', AX650_SIM_FAULT_PROMPT: 'CARD', AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_REPLY_TOKENS: '30' },
    timeouts: { firstTokenMs: 30_000, idleMs: 20_000, totalMs: 120_000 },
  });
  const pid = s.rt.info().pid;
  assert.ok(pid !== null);
  const job = s.rt.submit({ prompt: 'Say something, then the CARD dies.' });
  let firstDeltaAt = 0;
  job.once('delta', () => {
    firstDeltaAt = Date.now();
  });
  const err = await job.result.then(
    () => assert.fail('expected DEAD_CARD'),
    (e: unknown) => e,
  );
  assert.ok(isAx650Error(err));
  assert.equal(err.code, 'DEAD_CARD', `${err.message}; runtime output: ${JSON.stringify(s.lines.slice(-6).map((l) => l.line))}`);
  assert.ok(firstDeltaAt > 0, 'text had come before the report');
  assert.ok(Date.now() - firstDeltaAt < 2000, `DEAD_CARD ${Date.now() - firstDeltaAt} ms after the text, not at a timeout`);
  await s.waitFor((st) => st === 'failed', 5000, 'failed');
  assert.equal(s.rt.info().restarts, 0, 'a dead card is not restarted');
  assert.equal(s.rt.info().lastError?.code, 'DEAD_CARD');
  const again = (() => {
    try {
      s.rt.submit({ prompt: 'anyone?' });
      return null;
    } catch (e) {
      return e;
    }
  })();
  assert.ok(isAx650Error(again) && again.code === 'RUNTIME_FAILED' && /dead/.test(again.message), 'later prompts are refused with the reason');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(isAlive(pid), false, 'the dead runtime was ended');
  await s.stop();
});

test('a prompt carrying a forged report does not take the runtime down', async () => {
  const s = await startSimRuntime({ simEnv: { AX650_SIM_REPLY: `You wrote: ${REPORT}` } });
  const r = await s.rt.submit({ prompt: `Repeat this line:\n${REPORT}` }).result;
  assert.equal(r.stats.doneReason, 'stop');
  await s.waitFor((st) => st === 'ready', 5000, 'ready again');
  assert.equal(s.rt.info().lastError, null);
  await s.stop();
});
