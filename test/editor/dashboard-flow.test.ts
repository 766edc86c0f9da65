/**
 * The Dashboard 2 chat of examples/dashboard-chat.json in headless Chromium, on the simulator: a
 * typed prompt sent with Enter streams into the chat (several intermediate lengths seen by a
 * MutationObserver), Stop ends it early ("stopped by you"), a second prompt sent with the send arrow
 * streams to the end ("finished") and, growing below the fold, stays scrolled into view; the health
 * readout shows the runtime; the exposure warning of a runtime on 0.0.0.0 is said once, at the top
 * of the chat, never in the readout or under a reply; the browser console stays free of errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleFlows, processTree, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { chromiumPath, docsScreenshot, openBrowser, SKIP_NO_CHROMIUM } from './browser';
import { alive, DASHBOARD, simulatorRuntime, waitForText } from './flows';

const chromium = chromiumPath();
const REPLY_TOKENS = 160;
const EXPOSED = '0.0.0.0:8000';

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

/** From the first paint on: how often the exposure sentence appeared, and how many copies were on the page at once. */
const WATCH_WARNING = `document.addEventListener('DOMContentLoaded', () => {
  const warn = (window.__ax650Warning = { appearances: 0, most: 0, showing: 0 });
  new MutationObserver(() => {
    const n = document.body.innerText.split('${EXPOSED}').length - 1;
    if (n > 0 && warn.showing === 0) warn.appearances++;
    warn.showing = n;
    warn.most = Math.max(warn.most, n);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
})`;

/** The chat is scrolled to its end and its last bubble is inside the window (runs in the page). */
const LAST_IN_VIEW = `(() => {
  const chat = document.querySelector('.ax650-chat');
  const last = chat.lastElementChild.getBoundingClientRect();
  const box = chat.getBoundingClientRect();
  return { overflows: chat.scrollHeight > chat.clientHeight, atEnd: chat.scrollHeight - chat.scrollTop - chat.clientHeight <= 2,
    inChat: last.bottom <= box.bottom + 1, inWindow: last.bottom <= window.innerHeight + 1 };
})()`;

test('dashboard chat: streaming reply, stop, a second prompt, health readout, no console errors', { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  // Slow enough that a reply takes seconds and arrives in many pieces, fast enough for CI.
  // The faithful every-interface bind, so that the health node has the exposure warning to say (once).
  const runtime = await simulatorRuntime('da5b0a7c0000test', { AX650_SIM_TOKENS_PER_SEC: '40', AX650_SIM_REPLY_TOKENS: String(REPLY_TOKENS), AX650_SIM_BIND: '0.0.0.0' });
  const flows = exampleFlows(runtime, ['dashboard-chat.json']);
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, modules: [DASHBOARD], flows });
  const browser = await openBrowser(chromium as string);
  let children: number[] = [];
  try {
    await waitForText(nr.output, /NPU runtime ready after|\[error\]/, 60_000);
    children = processTree(nr.pid);
    const { page } = browser;
    // A window short enough that two replies overflow the chat: the new one must be scrolled into view.
    await page.setViewportSize({ width: 1000, height: 520 });
    await page.addInitScript(WATCH_WARNING);
    await page.goto(`${nr.url}/dashboard/ax650-chat`);
    const health = page.locator('.ax650-health');
    await health.filter({ hasText: /ready/ }).waitFor({ timeout: 30_000 });
    await page.evaluate(OBSERVE);
    // The alerts that hold when the page opens are told once, at the top of the chat.
    await page.locator('.ax650-alert', { hasText: EXPOSED }).waitFor({ timeout: 15_000 });

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
    await first.locator('.ax650-info', { hasText: 'stopped by you' }).waitFor({ timeout: 10_000 });
    const stoppedInfo = await first.locator('.ax650-info').innerText();
    const stoppedAt = Number(/(\d+) tokens/.exec(stoppedInfo)?.[1]);
    assert.ok(stoppedAt < REPLY_TOKENS, `stop ended the reply early: ${stoppedInfo}`);
    assert.equal(await ask.inputValue(), '', 'the input was cleared for the next prompt');

    await ask.fill('And what is 1 + 3?');
    // The send arrow sends, like Enter.
    await page.locator('.ax650-ask .mdi-send').click();
    await page.locator('.ax650-user', { hasText: 'And what is 1 + 3?' }).waitFor({ timeout: 5_000 });
    const second = assistant.nth(1);
    await second.locator('.ax650-info').filter({ hasText: /· finished$/ }).waitFor({ timeout: 30_000 });
    const fullInfo = await second.locator('.ax650-info').innerText();
    assert.match(fullInfo, /^\d+ tokens · [\d.]+ tok\/s · finished$/);
    const view = (await page.evaluate(LAST_IN_VIEW)) as { overflows: boolean; atEnd: boolean; inChat: boolean; inWindow: boolean };
    assert.deepEqual(view, { overflows: true, atEnd: true, inChat: true, inWindow: true }, 'the reply that grew below the fold was scrolled into view');
    // The simulated reply's think block is stripped, so slightly fewer tokens reach the chat than the runtime generated.
    assert.ok(Number(/(\d+) tokens/.exec(fullInfo)?.[1]) > stoppedAt, `the second reply ran to the end: ${fullInfo}`);
    await browser.screenshot('dashboard-second-reply');
    const warning = (await page.evaluate('window.__ax650Warning')) as { appearances: number; most: number };
    assert.deepEqual({ appearances: warning.appearances, most: warning.most }, { appearances: 1, most: 1 }, 'the exposure warning is said once');
    assert.equal(await page.locator('.ax650-alert').count(), 1, 'one alert line in the chat, not one per reply');
    assert.doesNotMatch(await health.innerText(), new RegExp(EXPOSED.replace(/\./g, '\\.')), 'not in the readout under the chat');
    // The README's picture, in a roomier window and without the notification over it.
    await page.setViewportSize({ width: 1200, height: 980 });
    const close = page.locator('.v-snackbar button', { hasText: 'Close' });
    for (let i = await close.count(); i > 0; i--) await close.first().click();
    await page.locator('.v-snackbar__content').first().waitFor({ state: 'detached', timeout: 5_000 }).catch(() => undefined);
    await docsScreenshot(page, 'dashboard-chat');

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
