/**
 * #17.4: a runtime that cannot start says why in the error sentence itself — the cause the runtime
 * printed (`init axmodel(…) failed`, `lLaMa.Init failed`, a missing file, `axcl_Init(0) failed`) —
 * not only "exited while loading the model (exit code 255)" with the cause hidden in `tail`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { failureLines, loadFailureCause } from '../../lib/runtime/load-cause';
import { startSimRuntime } from '../runtime/helpers';

const E = (fn: string, line: number, msg: string): string => `\x1b[1;30;31m[E][${fn.padStart(32)}][${String(line).padStart(4)}]: ${msg}\x1b[0m`;

test('the first and the last failure line of a vendor log tail, ANSI codes and noise left out', () => {
  const tail = [
    '\x1b[1;30;32m[I][                            Init][  78]: LLM init start\x1b[0m',
    'tokenizer_type = 1',
    E('Init', 160, 'axcl_Init(0) failed'),
    E('main', 444, 'lLaMa.Init failed'),
  ].join('\n');
  assert.deepEqual(failureLines(tail), ['axcl_Init(0) failed', 'lLaMa.Init failed']);
  assert.equal(loadFailureCause(tail), 'axcl_Init(0) failed … lLaMa.Init failed');
  assert.equal(loadFailureCause('open /dev/axcl_host fail, errno: 2 No such file or directory\n'), 'open /dev/axcl_host fail, errno: 2 No such file or directory');
  assert.equal(loadFailureCause(`${E('main', 444, 'lLaMa.Init failed')}\r${E('main', 444, 'lLaMa.Init failed')}`), 'lLaMa.Init failed', 'one line once');
  assert.equal(loadFailureCause('[I][ Init][ 1]: ok\n100% | #### | 5 / 5'), null, 'nothing failed: no cause');
});

const cases: Array<{ what: string; env: Record<string, string>; missing?: string; cause: RegExp }> = [
  { what: 'an axmodel that does not initialise', env: { AX650_SIM_INIT_FAIL: 'axmodel' }, cause: /init axmodel\(.*qwen3_p128_l\d+_together\.axmodel\) failed … lLaMa\.Init failed/ },
  { what: 'a missing embedding file', env: { AX650_SIM_INIT_FAIL: 'embed' }, cause: /embed_selector\.Init\(.*\) failed … lLaMa\.Init failed/ },
  { what: 'a missing axmodel file', env: {}, missing: 'qwen3_p128_l1_together.axmodel', cause: /init axmodel\(.*qwen3_p128_l1_together\.axmodel\) failed/ },
];
for (const c of cases) {
  test(`${c.what}: the error sentence names the cause`, async () => {
    const sim = await startSimRuntime({
      start: false,
      simEnv: c.env,
      // The package's own pre-flight would catch a missing file first; this is what the runtime says when it gets that far.
      preflight: async () => undefined,
      config: { restart: { baseMs: 50, maxMs: 100, maxCrashes: 1, windowMs: 60_000 } },
    });
    try {
      if (c.missing) await rm(path.join(sim.modelDir, 'qwen3-4b-ax650', c.missing));
      const failed = sim.waitFor((s) => s === 'failed', 60_000, 'failed');
      await sim.rt.start().catch(() => undefined);
      const info = await failed;
      const message = info.lastError?.message ?? '';
      assert.match(message, /exited while loading the model \(exit code 255\): /);
      assert.match(message, c.cause);
    } finally {
      await sim.stop();
    }
  });
}
