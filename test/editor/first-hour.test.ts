/**
 * #17.4 in the real editor (headless Chromium): each node type has its own icon in the palette
 * (served, and distinct); the runtime config node is listed by its model and where it runs; in its
 * dialog no dropdown text is cut (every option of every select measured in the select's own font)
 * and "Check folder" with an empty field names the label the user sees ("Model folder"). Also makes
 * the README's picture of the example flow (docs/img/editor-flow.png with AX650_SCREENSHOTS=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleFlows, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { chromiumPath, docsScreenshot, openBrowser, SKIP_NO_CHROMIUM } from './browser';
import { alive, DASHBOARD, simulatorRuntime } from './flows';

const chromium = chromiumPath();
const pkgName = '@axnpu/node-red-ax650';
const TYPES = ['ax650-generate', 'ax650-health', 'ax650-mqtt', 'ax650-api'];

/** Per option of every select in the open config dialog: its text, the width it needs and the width it has (runs in the page). */
const SELECT_FIT = `(() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const out = [];
  document.querySelectorAll('#node-config-dialog-edit-form select').forEach((sel) => {
    if (sel.offsetParent === null) return;
    const cs = getComputedStyle(sel);
    ctx.font = cs.fontStyle + ' ' + cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
    // The native arrow takes about 20px on the right, inside the padding box.
    const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
    for (const o of sel.options) out.push({ id: sel.id, text: o.text, need: Math.ceil(ctx.measureText(o.text).width), room: Math.floor(room) });
  });
  return out;
})()`;

test('editor: own icons, the runtime listed as model · place, dropdown texts not cut, Check folder names the label', { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  const runtime = { ...(await simulatorRuntime('f1e5700000000001')), name: '' };
  const flows = exampleFlows(runtime, ['dashboard-chat.json']);
  const nr = await startNodeRed({
    nodeRed: nodeRedPackage,
    modules: [DASHBOARD],
    flows,
    settings: { editorTheme: { tours: false, palette: { catalogues: [] } }, telemetry: { enabled: false } },
  });
  const browser = await openBrowser(chromium as string);
  try {
    const { page } = browser;
    await page.setViewportSize({ width: 1600, height: 800 });
    await page.goto(nr.url);
    const icons: string[] = [];
    for (const type of TYPES) {
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"] .red-ui-palette-icon`);
      await entry.waitFor({ state: 'attached', timeout: 30_000 });
      const bg = await entry.evaluate((el: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundImage: string } }).getComputedStyle(el).backgroundImage);
      assert.match(bg, new RegExp(`icons/${pkgName.replace('/', '\\/')}/${type}\\.svg`), `${type} icon: ${bg}`);
      const res = await fetch(`${nr.url}/icons/${pkgName}/${type}.svg`);
      assert.equal(res.status, 200, `${type}.svg served`);
      icons.push(await res.text());
    }
    assert.equal(new Set(icons).size, TYPES.length, 'every node has its own icon');

    // The example flow as the user meets it, for the README.
    await page.locator('.red-ui-tab', { hasText: 'dashboard-chat' }).click();
    const generate = flows.find((n) => n.type === 'ax650-generate')!;
    // The picture shows the flow running: the generate node's status says ready, on the simulator.
    await page.locator(`[id="${generate.id}"] .red-ui-flow-node-status-label`, { hasText: 'ready (simulator: canned replies)' }).waitFor({ timeout: 60_000 });
    await docsScreenshot(page, 'editor-flow');

    await page.locator(`[id="${generate.id}"] .red-ui-flow-node`).dblclick();
    const runtimeSelect = page.locator('#node-input-runtime');
    await runtimeSelect.waitFor({ state: 'visible' });
    assert.equal(await runtimeSelect.locator('option:checked').innerText(), 'qwen3-ax650 · simulator', 'the config node in the list: model · where it runs');

    await page.locator('#node-input-btn-runtime-edit').click();
    await page.locator('#node-config-input-modelDir').waitFor({ state: 'visible' });
    const fit = (await page.evaluate(SELECT_FIT)) as Array<{ id: string; text: string; need: number; room: number }>;
    assert.ok(fit.length >= 7, `the dialog's dropdowns were measured: ${JSON.stringify(fit)}`);
    const cut = fit.filter((f) => f.need > f.room);
    assert.deepEqual(cut, [], 'dropdown texts that do not fit');

    await page.locator('#node-config-input-modelDir').fill('');
    await page.locator('#ax650-check-folder').click();
    const problem = await page.locator('#ax650-check-result .ax650-check-problem').innerText();
    assert.match(problem, /^Model folder is empty/);
    assert.doesNotMatch(problem, /modelDir/);
    assert.deepEqual(browser.errors, []);
  } catch (e) {
    await browser.screenshot('first-hour-editor-failure').catch(() => undefined);
    throw e;
  } finally {
    await browser.close();
    await nr.stop();
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
});
