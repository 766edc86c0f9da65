/**
 * The Node-RED editor in headless Chromium with the package installed and admin auth on: the nodes
 * in their palette category, the runtime dialog, and "Check folder" on a folder whose binary is a
 * Git LFS pointer (flags filled in, the problem in words). The admin endpoint refuses callers
 * without the write permission.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { nodeRedPackage } from '../helpers/nr';
import { startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { chromiumPath, openBrowser, SKIP_NO_CHROMIUM } from './browser';
import { alive, simulatorRuntime } from './flows';
import { lfsPointerFolder } from './model-folder';

const chromium = chromiumPath();
const pkgName = '@axnpu/node-red-ax650';
const PASSWORD = 'ax650-editor-test';
const bcrypt = createRequire(__filename)('bcryptjs') as { hashSync(text: string, rounds: number): string };

async function token(nr: NodeRedProcess, username: string, scope: string): Promise<string> {
  const res = await fetch(`${nr.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: PASSWORD }).toString(),
  });
  assert.equal(res.status, 200, `login as ${username}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function checkFolderCall(nr: NodeRedProcess, body: unknown, bearer?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bearer) headers['authorization'] = `Bearer ${bearer}`;
  return fetch(`${nr.url}/ax650/check-folder`, { method: 'POST', headers, body: JSON.stringify(body) });
}

test('editor: palette, runtime dialog and Check folder on an LFS-pointer folder', { skip: chromium === null ? SKIP_NO_CHROMIUM : false }, async () => {
  const folder = await lfsPointerFolder();
  const hash = bcrypt.hashSync(PASSWORD, 4);
  const runtime = { ...(await simulatorRuntime('e0d17000000000a1')), startOn: 'first-use' };
  const flows = [
    { id: 'e0d17000000000f1', type: 'tab', label: 'Editor test' },
    runtime,
    {
      id: 'e0d17000000000b1', type: 'ax650-generate', z: 'e0d17000000000f1', name: 'Ask the NPU', runtime: runtime.id, system: '', temperature: '', topK: '', topP: '',
      repetitionPenalty: '', maxTokens: '', think: false, firstTokenTimeout: 180, idleTimeout: 30, totalTimeout: 900, x: 300, y: 160, wires: [[], []],
    },
  ];
  const nr = await startNodeRed({
    nodeRed: nodeRedPackage,
    flows,
    settings: {
      // No first-run tour or update-notification question covering the canvas, and no palette catalogue from the internet.
      editorTheme: { tours: false, palette: { catalogues: [] } },
      telemetry: { enabled: false },
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'admin', password: hash, permissions: '*' },
          { username: 'viewer', password: hash, permissions: 'read' },
        ],
      },
    },
  });
  const browser = await openBrowser(chromium as string);
  try {
    assert.equal((await checkFolderCall(nr, { modelDir: folder.dir })).status, 401, 'anonymous');
    assert.equal((await checkFolderCall(nr, { modelDir: folder.dir }, await token(nr, 'viewer', 'read'))).status, 401, 'read-only user');
    const admin = await token(nr, 'admin', '*');
    const bad = await checkFolderCall(nr, { binary: 3 }, admin);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /^The Model folder is empty/);
    const ok = await checkFolderCall(nr, { modelDir: folder.dir }, admin);
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { problems: Array<{ code: string }> }).problems.map((p) => p.code), ['BINARY_LFS_POINTER']);

    const { page } = browser;
    await page.goto(nr.url);
    await page.locator('#node-dialog-login-username').fill('admin');
    await page.locator('#node-dialog-login-password').fill(PASSWORD);
    await page.locator('#node-dialog-login-submit').click();

    const sets = (await (await fetch(`${nr.url}/nodes`, { headers: { accept: 'application/json', authorization: `Bearer ${admin}` } })).json()) as Array<{ module: string; types: string[] }>;
    const types = sets.filter((s) => s.module === pkgName).flatMap((s) => s.types).filter((t) => t !== 'ax650-runtime');
    assert.ok(types.includes('ax650-generate') && types.includes('ax650-health'), types.join());
    for (const type of types) {
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      await entry.waitFor({ state: 'attached', timeout: 30_000 });
      // The palette keeps the category id with spaces replaced (red.js createCategory).
      assert.equal(await entry.evaluate((el: unknown) => (globalThis as unknown as { $: (e: unknown) => { data(k: string): unknown } }).$(el).data('category')), 'AX650_NPU', type);
      assert.match((await entry.innerText()).trim(), /\S/, `${type} has a palette label`);
    }
    await page.locator('.red-ui-palette-header', { hasText: 'AX650 NPU' }).first().waitFor();
    await browser.screenshot('editor-palette');
    // Node status on the canvas is translated text (a namespace slip shows the raw key, e.g. "status.stopped").
    const statusLabel = page.locator('[id="e0d17000000000b1"] .red-ui-flow-node-status-label');
    const deadline = Date.now() + 15_000;
    let label = '';
    while ((label = ((await statusLabel.count()) > 0 ? ((await statusLabel.textContent()) ?? '') : '').trim()) === '' && Date.now() < deadline) {
      await page.waitForTimeout(100);
    }
    assert.equal(label, 'stopped');

    await page.locator('[id="e0d17000000000b1"] .red-ui-flow-node').dblclick();
    await page.locator('#node-input-btn-runtime-edit').click();
    const modelDir = page.locator('#node-config-input-modelDir');
    await modelDir.waitFor({ state: 'visible' });
    await modelDir.fill(folder.dir);
    await page.locator('#ax650-check-folder').click();
    const problem = page.locator('#ax650-check-result .ax650-check-problem');
    await problem.waitFor({ timeout: 15_000 });
    assert.match(await problem.innerText(), /BINARY_LFS_POINTER: .*Git LFS pointer, not the program: run "git lfs install && git lfs pull"/);
    assert.match(await page.locator('#ax650-check-result').innerText(), /7 flags read from .*run_qwen3_4b_int8_ctx_axcl_aarch64_api\.sh/);
    const flags = JSON.parse(await page.locator('#node-config-input-flags').inputValue()) as Record<string, string>;
    assert.equal(flags['axmodel_num'], '4');
    assert.equal(flags['url_tokenizer_model'], undefined);
    assert.equal(await page.locator('#node-config-input-binary').inputValue(), 'main_api_axcl_aarch64');
    await browser.screenshot('editor-check-folder');

    // 401s before the login are the editor's own way of asking for one.
    const errors = browser.errors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(errors, []);
  } catch (e) {
    await browser.screenshot('editor-failure').catch(() => undefined);
    throw e;
  } finally {
    await browser.close();
    await nr.stop();
    await folder.remove();
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
});
