/**
 * The Dashboard 2 chat of examples/dashboard-chat.json in headless Chromium, on the simulator: a
 * typed prompt streams into the chat (several intermediate lengths seen by a MutationObserver),
 * Stop ends it early, a second prompt streams to the end, the health readout shows the runtime,
 * and the browser console stays free of errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleFlows, processTree, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { chromiumPath, openBrowser, SKIP_NO_CHROMIUM } from './browser';
import { alive, DASHBOARD, simulatorRuntime, waitForText } from './flows';

const chromium = chromiumPath();
const REPLY_TOKENS = 64;

/** Records, per assistant bubble, every text length the page showed (runs in the page). */
const OBSERVE = `(() => {
  const seen = (window.__ax650Lengths = []);
  const record = () => {
    document.querySelectorAll('.ax650-assistant .ax650-text').forEach((el, i) => {
      const len = (el.firstChild && el.firstChild.nodeType === 3 ? el.firstChild.textContent : '').length;
      const list = (seen[i] = seen[i] || []);
      if (list[list.length - 1] !== len) list.push(len);
    });
  };
  new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

test('dashboard chat: streaming reply, stop, a second prompt, health readout, no console errors', { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  // Slow enough that a reply takes seconds and arrives in many pieces, fast enough for CI.
  const runtime = await simulatorRuntime('da5b0a7c0000test', { AX650_SIM_TOKENS_PER_SEC: '16', AX650_SIM_REPLY_TOKENS: String(REPLY_TOKENS) });
  const flows = exampleFlows(runtime, ['dashboard-chat.json']);
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, modules: [DASHBOARD], flows });
  const browser = await openBrowser(chromium as string);
  let children: number[] = [];
  try {
    await waitForText(nr.output, /NPU runtime ready after|\[error\]/, 60_000);
    children = processTree(nr.pid);
    const { page } = browser;
    await page.goto(`${nr.url}/dashboard/ax650-chat`);
    const health = page.locator('.ax650-health');
    await health.filter({ hasText: /ready/ }).waitFor({ timeout: 30_000 });
    await page.evaluate(OBSERVE);

    const lengths = (): Promise<number[][]> => page.evaluate('window.__ax650Lengths') as Promise<number[][]>;
    const ask = page.locator('.ax650-ask input').first();
    const assistant = page.locator('.ax650-assistant');

    await ask.fill('Tell me about the robot arm.');
    await ask.press('Enter');
    await page.locator('.ax650-user', { hasText: 'Tell me about the robot arm.' }).waitFor();
    await page.waitForFunction('(window.__ax650Lengths[0] || []).filter((n) => n > 0).length >= 3');
    await browser.screenshot('dashboard-streaming');
    await page.locator('button.ax650-stop, .ax650-stop button').first().click();
    const first = assistant.nth(0);
    await first.locator('.ax650-info', { hasText: 'stopped' }).waitFor({ timeout: 10_000 });
    const stoppedInfo = await first.locator('.ax650-info').innerText();
    const stoppedAt = Number(/(\d+) tokens/.exec(stoppedInfo)?.[1]);
    assert.ok(stoppedAt < REPLY_TOKENS, `stop ended the reply early: ${stoppedInfo}`);
    assert.equal(await ask.inputValue(), '', 'the input was cleared for the next prompt');

    await ask.fill('And what is 1 + 3?');
    await ask.press('Enter');
    const second = assistant.nth(1);
    await second.locator('.ax650-info').filter({ hasText: /· stop$/ }).waitFor({ timeout: 30_000 });
    const fullInfo = await second.locator('.ax650-info').innerText();
    assert.match(fullInfo, /^\d+ tokens · [\d.]+ tok\/s · stop$/);
    // The simulated reply's think block is stripped, so slightly fewer tokens reach the chat than the runtime generated.
    assert.ok(Number(/(\d+) tokens/.exec(fullInfo)?.[1]) > stoppedAt, `the second reply ran to the end: ${fullInfo}`);
    await browser.screenshot('dashboard-second-reply');

    const seen = await lengths();
    const growth = (list: number[] = []): number[] => list.filter((n) => n > 0);
    assert.ok(growth(seen[0]).length >= 3, `first reply grew in steps: ${seen[0]}`);
    assert.ok(growth(seen[1]).length >= 5, `second reply grew in steps: ${seen[1]}`);
    for (const list of seen) assert.deepEqual(list, [...list].sort((a, b) => a - b), 'a reply only ever grows');
    assert.equal(await page.locator('.ax650-user').count(), 2);
    assert.match(await health.innerText(), /ready|busy/);
    assert.deepEqual(browser.errors, []);
    assert.doesNotMatch(nr.output(), /\[error\]/);
  } catch (e) {
    await browser.screenshot('dashboard-failure').catch(() => undefined);
    throw e;
  } finally {
    await browser.close();
    await nr.stop();
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
  for (const pid of children) assert.equal(alive(pid), false, `child ${pid} gone`);
});
