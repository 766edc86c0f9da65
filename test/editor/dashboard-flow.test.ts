/**
 * The Dashboard 2 chat of examples/dashboard-chat.json in headless Chromium, on the simulator: a
 * typed prompt sent with Enter streams into the chat (several intermediate lengths seen by a
 * MutationObserver), Stop ends it early ("stopped by you"), a second prompt sent with the send arrow
 * streams to the end ("finished") and, growing below the fold, stays scrolled into view; the health
 * readout shows the runtime; the exposure warning of a runtime on 0.0.0.0 is said once, at the top
 * of the chat, never in the readout or under a reply; the browser console stays free of errors.
 * With a scripted model (AX650_SIM_TOOL_SCRIPT): a tool call of the example's toolbox shows as a line
 * with its arguments before the answer, its result when the branch answers, and a call the flow must
 * run (output 2's msg.toolCalls) shows too; a second browser waiting meanwhile never shows the first one's
 * call (the tool branch's msg carries the asking page's _client). On the runtime kind under test (AX650_TEST_KIND).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleFlows, processTree, startNodeRed } from '../helpers/node-red-process';
import { TEST_KIND } from '../helpers/kind';
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
  const runtime = { ...(await simulatorRuntime('da5b0a7c0000test', { AX650_SIM_TOKENS_PER_SEC: '40', AX650_SIM_REPLY_TOKENS: String(REPLY_TOKENS), AX650_SIM_BIND: '0.0.0.0' })), runtime: TEST_KIND };
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

/** A tool of no tool node, offered with msg.tools: the model's call comes out on output 2 for the flow. */
const WAVE = { type: 'function', function: { name: 'wave', description: 'Wave a hand', parameters: { type: 'object', properties: { hand: { type: 'string' } } } } };
const TOOL_SCRIPT = [
  { calls: [{ name: 'wave', arguments: { hand: 'left' } }] },
  { calls: [{ name: 'set_led', arguments: { on: true } }] },
  { text: 'The LED is on now, as you asked.' },
  // Two pages: the first one's turn writes a while before its call, so the second page asks while it runs.
  { raw: `Sure. ${'I will switch the status LED off for you now. '.repeat(10)}\n<tool_call>\n{"name": "set_led", "arguments": {"on": false}}\n</tool_call>` },
  { text: 'Hello from the robot.' },
  { text: 'The LED is off.' },
];

/** The chat's lines in order, by kind, and what was seen first (runs in the page). */
const WATCH_TOOLS = `(() => {
  const order = (window.__ax650Order = []);
  const mark = (what, yes) => { if (yes && !order.includes(what)) order.push(what); };
  new MutationObserver(() => {
    const line = [...document.querySelectorAll('.ax650-tool')].find((el) => el.innerText.includes('set_led'));
    mark('call', line !== undefined);
    mark('result', line !== undefined && line.innerText.includes('→'));
    mark('answer', [...document.querySelectorAll('.ax650-assistant .ax650-text')].some((el) => el.firstChild && el.firstChild.nodeType === 3 && el.firstChild.textContent !== ''));
    mark('final', document.querySelector('.ax650-assistant .ax650-info') !== null);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;
/** Every chat line's text the page ever showed (runs in the page). */
const SEEN_LINES = `(() => {
  const seen = (window.__ax650Seen = []);
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.ax650-chat .ax650-msg')) if (!seen.includes(el.innerText)) seen.push(el.innerText);
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;
const LINES = `[...document.querySelectorAll('.ax650-chat .ax650-msg:not(.ax650-alert)')].map((el) => el.className.match(/ax650-(user|assistant|tool)/)[1])`;

test('dashboard chat: tool calls show as lines before the answer, with their result; output 2 calls too', { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  const runtime = { ...(await simulatorRuntime('da5b0a7c0000too1', { AX650_SIM_TOKENS_PER_SEC: '40', AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT) })), runtime: TEST_KIND };
  const flows = exampleFlows(runtime, ['dashboard-chat.json']);
  // The example as shipped, plus a tool that has no tool node, so that a call reaches output 2.
  const perBrowser = flows.find((n) => n.type === 'change' && n['name'] === 'one chat per browser');
  (perBrowser?.['rules'] as object[]).push({ t: 'set', p: 'tools', pt: 'msg', to: JSON.stringify([WAVE]), tot: 'json' });
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, modules: [DASHBOARD], flows });
  const browser = await openBrowser(chromium as string);
  try {
    await waitForText(nr.output, /NPU runtime ready after|\[error\]/, 60_000);
    const { page } = browser;
    await page.setViewportSize({ width: 1200, height: 980 });
    await page.goto(`${nr.url}/dashboard/ax650-chat`);
    await page.locator('.ax650-health').filter({ hasText: /ready/ }).waitFor({ timeout: 30_000 });
    const ask = page.locator('.ax650-ask input').first();

    await ask.fill('Wave to the visitor.');
    await ask.press('Enter');
    await page.locator('.ax650-user', { hasText: 'Wave to the visitor.' }).waitFor({ timeout: 5_000 });
    const wave = page.locator('.ax650-tool', { hasText: 'wave' });
    await wave.locator('.ax650-info').waitFor({ timeout: 30_000 });
    assert.equal(await wave.locator('.ax650-text').innerText(), '🔧 wave {"hand":"left"}');
    assert.match(await wave.locator('.ax650-info').innerText(), /^for the flow to run$/);
    assert.equal(await page.locator('.ax650-assistant').count(), 0, 'a turn that only called a tool leaves no empty reply bubble');

    await page.evaluate(WATCH_TOOLS);
    await ask.fill('Switch the LED on, please.');
    await ask.press('Enter');
    const answer = page.locator('.ax650-assistant').last();
    await answer.locator('.ax650-info').filter({ hasText: /· finished$/ }).waitFor({ timeout: 30_000 });
    const led = page.locator('.ax650-tool', { hasText: 'set_led' });
    assert.equal(await led.locator('.ax650-text').innerText(), '🔧 set_led {"on":true}');
    assert.equal(await led.locator('.ax650-info').innerText(), '→ {"ok":true,"on":true}', 'the branch\'s result');
    assert.equal(await answer.locator('.ax650-text').innerText(), 'The LED is on now, as you asked.');
    assert.deepEqual(await page.evaluate('window.__ax650Order'), ['call', 'result', 'answer', 'final']);
    assert.deepEqual(await page.evaluate(LINES), ['user', 'tool', 'user', 'tool', 'assistant'], 'each call\'s line sits between its prompt and the answer');
    // The README's picture, without a notification over it.
    const close = page.locator('.v-snackbar button', { hasText: 'Close' });
    for (let i = await close.count(); i > 0; i--) await close.first().click();
    await page.locator('.v-snackbar__content').first().waitFor({ state: 'detached', timeout: 5_000 }).catch(() => undefined);
    await docsScreenshot(page, 'dashboard-chat');

    // A second browser waiting for its own reply while the first one's tool runs: the tool branch's msg carries the
    // asking page's _client, so the line goes to that page only.
    const other = await browser.newPage();
    await other.goto(`${nr.url}/dashboard/ax650-chat`);
    await other.locator('.ax650-health').filter({ hasText: /ready/ }).waitFor({ timeout: 30_000 });
    await ask.fill('Switch the LED off.');
    await ask.press('Enter');
    await page.locator('.ax650-assistant .ax650-text', { hasText: 'Sure.' }).waitFor({ timeout: 10_000 });
    await other.evaluate(SEEN_LINES);
    const otherAsk = other.locator('.ax650-ask input').first();
    await otherAsk.fill('Hello?');
    await otherAsk.press('Enter');
    const ledOff = (p: typeof page) => p.locator('.ax650-tool', { hasText: '"on":false' });
    await other.locator('.ax650-assistant .ax650-info').filter({ hasText: /finished$/ }).waitFor({ timeout: 30_000 });
    const seen = (await other.evaluate('window.__ax650Seen')) as string[];
    assert.ok(!seen.some((t) => t.startsWith('🔧')), `the waiting page never showed the other page's call: ${JSON.stringify(seen)}`);
    assert.equal(await ledOff(other).count(), 0);
    assert.equal(await other.locator('.ax650-tool').count(), 0);
    await page.locator('.ax650-assistant').nth(2).locator('.ax650-info').filter({ hasText: /finished$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await ledOff(page).locator('.ax650-info').innerText(), '→ {"ok":true,"on":false}', 'the asking page keeps its call and result');
    assert.deepEqual(((await page.evaluate(LINES)) as string[]).slice(5), ['user', 'assistant', 'tool', 'assistant'], 'the text before the call, the call, the answer');
    await other.close();

    // An alert line, when one holds, has words: the page's question about alerts must not leave an empty line.
    for (const alert of await page.locator('.ax650-chat .ax650-alert').allInnerTexts()) assert.match(alert, /\S/);
    assert.doesNotMatch(await page.locator('.ax650-chat').innerText(), /undefined/);
    assert.deepEqual(browser.errors, []);
    assert.doesNotMatch(nr.output(), /\[error\]/);
  } catch (e) {
    await browser.screenshot('dashboard-tools-failure').catch(() => undefined);
    throw e;
  } finally {
    await browser.close();
    await nr.stop();
  }
});
