/**
 * Editor quality of every node the package registers: palette category, icon, help in en-US and
 * zh-CN, and every message key the dialogs use present in both catalogs with the same key set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/node-red-process';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const types = Object.keys(pkg['node-red'].nodes);
const LANGS = ['en-US', 'zh-CN'];

function keys(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null) return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function catalog(lang: string, type: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(repoRoot, 'locales', lang, `${type}.json`), 'utf8')) as Record<string, unknown>;
}

for (const type of types) {
  test(`${type}: category, icon, help and messages in ${LANGS.join(' and ')}`, () => {
    const html = readFileSync(path.join(repoRoot, 'nodes', `${type}.html`), 'utf8');
    assert.match(html, new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{`));
    const category = /category: '([^']+)'/.exec(html)?.[1];
    assert.equal(category, type === 'ax650-runtime' ? 'config' : 'AX650 NPU');
    if (category !== 'config') {
      const icon = /icon: '([^']+)'/.exec(html)?.[1] ?? '';
      assert.ok(existsSync(path.join(repoRoot, 'icons', icon)), `icon ${icon}`);
      assert.match(html, /paletteLabel:/);
    }

    const en = keys(catalog('en-US', type)).sort();
    for (const lang of LANGS) {
      const cat = catalog(lang, type);
      // Error sentences: English comes from lib/ with the code (nodes/shared/i18n.ts), other languages may translate them.
      const own = keys(cat).filter((k) => !k.startsWith('ax650-runtime.errors.'));
      assert.deepEqual(own.sort(), en, `${lang} has the same keys as en-US`);
      const help = readFileSync(path.join(repoRoot, 'locales', lang, `${type}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${type}"`), `${lang} help`);
      assert.ok(help.replace(/<[^>]+>/g, '').trim().length > 300, `${lang} help says something`);
      for (const [, key] of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) {
        assert.ok(keys(cat).includes(key as string), `${lang}: ${key} used by the dialog`);
      }
      for (const [, key] of html.matchAll(/_\('([a-z0-9-]+\.[^']+)'/g)) {
        assert.ok(keys(cat).includes(key as string), `${lang}: ${key} used by the editor script`);
      }
    }
  });
}
