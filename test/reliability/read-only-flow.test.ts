/**
 * Issue 18 item 6, in a whole Node-RED process: `<userDir>/.ax650` is read-only (EROFS, holding a
 * stale pid file from before the power fault). Deploying the runtime does not end Node-RED: the
 * runtime starts without a pid file, Node-RED's log says why in a warning, prompts are answered, and
 * stopping Node-RED leaves no process behind. The folder is of the runtime kind under test (runtime
 * 'auto' picks the kind from it), so this runs on the 2025 runtime and on axllm serve.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createKindModelDir, kindOfProcess, TEST_KIND } from '../helpers/kind';
import { freeLoopbackPort, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { processesIn } from '../runtime/helpers';
import { makeReadOnlyDir } from './read-only';
import { ask, askFlow } from './ask-flow';

test('a read-only state folder: Node-RED stays up, the runtime runs without a pid file and says so', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-rofs-'));
  const modelDir = path.join(root, 'model');
  const userDir = path.join(root, 'user');
  await createKindModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  const stale = { name: `ax650-runtime-${ports.runtime}.pid`, content: '{"name":"runtime","pid":999999,"pgid":999999,"startTime":1,"marker":"00000000-0000-4000-8000-000000000000","writtenAt":"2026-01-01T00:00:00Z"}\n' };
  const ro = makeReadOnlyDir(path.join(userDir, '.ax650'), stale);
  if (!ro) {
    t.skip('cannot make a read-only folder here (not root and no mount)');
    await rm(root, { recursive: true, force: true });
    return;
  }
  const flows = askFlow(modelDir, ports);
  let nr: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  try {
    nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    await ask(nr.url, 'Still running?');
    const out = nr.output();
    assert.match(out, new RegExp(`Cannot write the pid file .*\\(${ro.code}\\)`), 'the warning names the folder problem');
    assert.doesNotMatch(out, /Uncaught|unhandled|EROFS: read-only file system, unlink/i);
    assert.equal(await readFile(path.join(ro.dir, stale.name), 'utf8'), stale.content, 'nothing could be written there');
    const running = await processesIn(modelDir);
    assert.ok(running.length > 0, 'the runtime runs');
    assert.equal(await kindOfProcess(running[0]!), TEST_KIND, 'the runtime of the kind under test');
  } finally {
    await nr?.stop();
    ro.release();
  }
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after Node-RED stopped');
  await rm(root, { recursive: true, force: true });
});
