/**
 * The camera page of examples/vision-dashboard.json in headless Chromium, on the simulator: a photo
 * uploaded with Dashboard 2's file input is described by the VL model and the description shows on
 * the page (axllm with a VL folder: the simulated model names the size that reached it and the
 * photo's colour); on the 2025 runtime, which has no vision, the page shows the VISION_UNSUPPORTED
 * sentence as a notification. Then a file that is no image: BAD_INPUT on the page, and the next photo
 * is still described. On the runtime kind under test (AX650_TEST_KIND).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exampleFlows, processTree, startNodeRed } from '../helpers/node-red-process';
import { createKindModelDir, TEST_KIND } from '../helpers/kind';
import { nodeRedPackage } from '../helpers/nr';
import { BLUE, RED, solid } from '../vision/images';
import { chromiumPath, openBrowser, SKIP_NO_CHROMIUM } from './browser';
import { alive, DASHBOARD, simulatorRuntime, waitForText } from './flows';

const chromium = chromiumPath();

test(`dashboard camera page: an uploaded photo is described on the page (${TEST_KIND})`, { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-vision-dashboard-'));
  const modelDir = path.join(dir, 'model');
  await createKindModelDir(modelDir, { vision: true });
  const runtime = { ...(await simulatorRuntime('ca3e7a0d0000test', { AX650_SIM_TOKENS_PER_SEC: '200' })), modelDir, runtime: TEST_KIND };
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, modules: [DASHBOARD], flows: exampleFlows(runtime, ['vision-dashboard.json']) });
  const browser = await openBrowser(chromium as string);
  let children: number[] = [];
  try {
    await waitForText(nr.output, /NPU runtime ready after|\[error\]/, 60_000);
    children = processTree(nr.pid);
    const { page } = browser;
    await page.goto(`${nr.url}/dashboard/ax650-camera`);
    const upload = page.locator('.ax650-camera-upload input[type=file]');
    const answer = page.locator('.ax650-camera-answer');
    // Dashboard 2 shows a ui-notification as a snackbar (its class name is not on the text).
    const error = page.locator('.nrdb-ui-notification');
    const send = async (name: string, mimeType: string, buffer: Buffer): Promise<void> => {
      // After an upload the widget says "File Uploaded! Upload Another File": that link brings the input back.
      const another = page.getByText('Upload Another File');
      if (await another.isVisible()) await another.click();
      await upload.setInputFiles({ name, mimeType, buffer });
      await page.locator('.ax650-camera-upload button', { hasText: /upload/i }).click();
    };

    await send('frame.png', 'image/png', await solid(640, 480, RED, 'png'));
    if (TEST_KIND !== 'axllm') {
      await error.filter({ hasText: /cannot take images/ }).waitFor({ timeout: 30_000 });
      assert.doesNotMatch(await answer.innerText(), /I see/, 'no description without vision');
    } else {
      // 640×480 reaches the model scaled into its 448×448 input, still PNG; the reply names its colour.
      await answer.filter({ hasText: /I see a 448x336 PNG image, mostly red/ }).waitFor({ timeout: 30_000 });

      await send('notes.jpg', 'image/jpeg', Buffer.from('this is not a photo'));
      await error.filter({ hasText: /msg\.image/ }).waitFor({ timeout: 30_000 });

      await send('frame2.jpg', 'image/jpeg', await solid(1280, 720, BLUE, 'jpeg'));
      await answer.filter({ hasText: /I see a 448x252 JPEG image, mostly blue/ }).waitFor({ timeout: 30_000 });
      await browser.screenshot('vision-dashboard');
    }
    assert.deepEqual(browser.errors, []);
  } catch (e) {
    await browser.screenshot('vision-dashboard-failure').catch(() => undefined);
    console.log(nr.output().slice(-3000));
    throw e;
  } finally {
    await browser.close();
    await nr.stop();
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
  for (const pid of children) assert.equal(alive(pid), false, `child ${pid} gone`);
});
