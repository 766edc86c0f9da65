/**
 * Issue 18 items 1 and 2 in real Node-RED (both legs): an ax650-generate flow on a runtime that
 * wedges mid-reply (ignores /api/stop and SIGINT) gets TIMEOUT at its idle timeout on the Catch node,
 * the runtime node ends and restarts the hung process (`restarts` 1), and the prompt sent behind it
 * is answered; a dead-card report glued to the reply fails the prompt with DEAD_CARD at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeMessage } from '../../nodes/red-types';
import { isAlive } from '../runtime/helpers';
import { startHarness } from '../nodes/flow-harness';

// Both runtime kinds: the wedge (the generation stops producing tokens; /api/stop on G1, a client disconnect on
// axllm and SIGINT change nothing) and the dead-card report glued to the token text on the console.

const IDLE_MS = 3000;

function errorOf(msg: NodeMessage): { code: string; message: string } {
  const err = msg.error as { message: string; code?: string };
  return { code: err.code ?? /^(\w+):/.exec(err.message)?.[1] ?? '', message: err.message };
}

test('a wedged runtime in a flow: TIMEOUT at the idle timeout, the process is replaced, the next prompt is answered', async () => {
  const h = await startHarness({
    simEnv: { AX650_SIM_HANG: 'wedge', AX650_SIM_FAULT_PROMPT: 'WEDGE', AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_REPLY_TOKENS: '12' },
    runtime: { stopBoundSec: 2 },
  });
  try {
    const hungPid = h.runtime.info().pid;
    assert.ok(hungPid !== null);
    const gen = h.node('gen');
    let lastStreamAt = 0;
    h.node('gen-stream').on('input', (msg: NodeMessage) => {
      // Text pieces only: the empty end marker goes out together with the error.
      if (msg.payload !== '') lastStreamAt = Date.now();
    });
    gen.receive({ payload: 'Tell a story and WEDGE halfway.', timeout: { idle: IDLE_MS }, topic: 'wedged' });
    gen.receive({ payload: 'And now?', topic: 'next' });
    const [caught] = await h.waitFor('caught', 1, 30_000);
    const failedAt = Date.now();
    assert.equal(caught!.topic, 'wedged');
    assert.equal(errorOf(caught!).code, 'TIMEOUT', errorOf(caught!).message);
    assert.ok(lastStreamAt > 0, 'reply text had reached the flow');
    const late = failedAt - lastStreamAt - IDLE_MS;
    assert.ok(Math.abs(late) <= 2000, `TIMEOUT came ${late} ms off the ${IDLE_MS} ms idle timeout`);
    const [final] = await h.waitFor('gen-final', 1, 60_000);
    assert.equal(final!.topic, 'next');
    assert.ok(String(final!.payload).length > 0);
    const info = h.runtime.info();
    assert.equal(info.restarts, 1);
    assert.notEqual(info.pid, hungPid);
    assert.equal(isAlive(hungPid), false, 'the hung process is gone');
  } finally {
    await h.close();
  }
});

test('a dead-card report glued to the reply in a flow: DEAD_CARD on the Catch node at once, runtime failed, no restart', async () => {
  const h = await startHarness({ simEnv: { AX650_SIM_DEAD_CARD: 'glued', AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_REPLY_TOKENS: '30' } });
  try {
    const t0 = Date.now();
    h.node('gen').receive({ payload: 'Say something.', timeout: { idle: 20_000 } });
    const [caught] = await h.waitFor('caught', 1, 15_000);
    assert.equal(errorOf(caught!).code, 'DEAD_CARD', errorOf(caught!).message);
    assert.ok(Date.now() - t0 < 10_000, 'long before the idle timeout');
    const info = h.runtime.info();
    assert.equal(info.state, 'failed');
    assert.equal(info.restarts, 0);
  } finally {
    await h.close();
  }
});
