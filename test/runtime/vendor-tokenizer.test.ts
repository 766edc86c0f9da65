/**
 * Issue 3 acceptance: tokenizerMode 'vendor' runs `python3 -u qwen3_tokenizer_uid.py` (here the
 * transformers-free stand-in from test/fixtures/vendor-tokenizer) in the model folder. kill -9 of
 * that process restarts both children, the tokenizer first, and the next job succeeds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { isAlive, kill9, startSimRuntime, stopAll } from './helpers';

after(stopAll);

/** /proc/<pid>/stat field 22: start time in clock ticks after boot. */
function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

test('kill -9 of the vendor tokenizer restarts both children, tokenizer first, and the next job succeeds', async () => {
  const sim = await startSimRuntime({ vendorTokenizer: true, simEnv: { AX650_SIM_REPLY_TOKENS: '6' } });
  const first = await sim.rt.submit({ prompt: 'before the tokenizer dies' }).result;
  assert.ok(first.text.length > 0);
  const oldTok = sim.tokenizerPid();
  const oldRuntime = sim.rt.info().pid;
  assert.ok(oldTok !== null && oldRuntime !== null);
  const marks = sim.states.length;

  kill9(oldTok);
  await sim.waitFor((s) => s === 'backoff', 5000, 'backoff');
  await sim.waitFor((s) => s === 'ready', 20_000, 'ready again');

  const restart = sim.states.slice(marks).map((s) => s.state);
  const from = restart.indexOf('backoff');
  assert.deepEqual(restart.slice(from, from + 4), ['backoff', 'preflight', 'starting-tokenizer', 'loading']);
  assert.equal(isAlive(oldTok), false);
  assert.equal(isAlive(oldRuntime), false, 'the runtime was restarted with the tokenizer');
  const newTok = sim.tokenizerPid();
  const newRuntime = sim.rt.info().pid;
  assert.ok(newTok !== null && newRuntime !== null && newTok !== oldTok && newRuntime !== oldRuntime);
  assert.ok(startTicks(newTok) <= startTicks(newRuntime), 'the tokenizer started before the runtime');
  // The new runtime took its uid from the new tokenizer (each request line names the serving pid).
  const uidServers = sim.lines.filter((l) => /GET \/get_uid/.test(l.line)).map((l) => l.line);
  assert.match(uidServers[uidServers.length - 1] ?? '', new RegExp(`pid ${newTok}: GET /get_uid`));

  const next = await sim.rt.submit({ prompt: 'after the tokenizer restart' }).result;
  assert.ok(next.text.length > 0);
  assert.equal(next.stats.doneReason, 'stop');
  await sim.stop();
  assert.equal(isAlive(newTok), false);
});
