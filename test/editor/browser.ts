/**
 * Debian's Chromium driven by playwright-core: headless, a fresh profile (playwright makes one per
 * launch), every console error and page error collected, and the whole browser process group
 * provably gone at close. Tests call `chromiumPath()` first and skip when it is null.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/node-red-process';

export const artifactsDir = path.join(repoRoot, 'test-artifacts');

/** The README's pictures (docs/img), rewritten by the browser tests when AX650_SCREENSHOTS=1 so they stay current. */
export const docsImageDir = path.join(repoRoot, 'docs', 'img');

export async function docsScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.AX650_SCREENSHOTS !== '1') return;
  mkdirSync(docsImageDir, { recursive: true });
  await page.screenshot({ path: path.join(docsImageDir, `${name}.png`) });
}

export const SKIP_NO_CHROMIUM = 'chromium is not installed (apt-get install chromium; CI does this): browser tests skipped';

export function chromiumPath(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface TestBrowser {
  page: Page;
  /** Console messages of type error and uncaught page errors, in order. */
  errors: string[];
  screenshot(name: string): Promise<void>;
  /** Another page in a context of its own (a second browser user), its errors collected in `errors` too. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `extraArgs`: more Chromium switches, e.g. `--host-resolver-rules` to give loopback servers other names. */
export async function openBrowser(executablePath: string, extraArgs: readonly string[] = []): Promise<TestBrowser> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs],
  });
  const pid = server.process().pid;
  if (pid === undefined) throw new Error('chromium started without a pid');
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint());
  } catch (e) {
    await server.kill();
    throw e;
  }
  const errors: string[] = [];
  const open = async (): Promise<Page> => {
    const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    p.on('pageerror', (e) => errors.push(`page: ${e.message}${e.stack ? `\n${e.stack}` : ''}`));
    return p;
  };
  const page = await open();
  mkdirSync(artifactsDir, { recursive: true });
  return {
    page,
    errors,
    screenshot: async (name) => {
      await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
    },
    newPage: open,
    close: async () => {
      await browser.close().catch(() => undefined);
      await server.close();
      // Playwright starts Chromium as a group leader; its renderer and zygote children share the group.
      const deadline = Date.now() + 10_000;
      while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (groupAlive(pid)) {
        process.kill(-pid, 'SIGKILL');
        throw new Error(`chromium process group ${pid} outlived close()`);
      }
    },
  };
}
