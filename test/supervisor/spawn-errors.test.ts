import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { ManagedChild, type SpawnSpec } from '../../lib/supervisor';
import { CHILDREN, tempDir } from './helpers';

function spec(command: string, extra: Partial<SpawnSpec> = {}): SpawnSpec {
  return { name: 'runtime', command, args: ['--flag'], cwd: CHILDREN, ...extra };
}

async function rejectsWith(p: Promise<ManagedChild>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAx650Error(e), `an Ax650Error, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, text);
    return true;
  });
}

for (const lineBuffered of [false, true]) {
  const how = lineBuffered ? 'under stdbuf' : 'spawned directly';
  test(`a missing binary rejects start with BINARY_MISSING (${how})`, async () => {
    await rejectsWith(ManagedChild.start(spec('/nonexistent/ax650/main_api_axcl_aarch64', { lineBuffered })), 'BINARY_MISSING', /not found \(ENOENT\)/);
    await rejectsWith(ManagedChild.start(spec('ax650-no-such-program', { lineBuffered })), 'BINARY_MISSING', /ax650-no-such-program/);
  });

  test(`a binary without the execute bit rejects start with BINARY_NOT_EXECUTABLE (${how})`, async (t) => {
    const tmp = tempDir();
    t.after(tmp.remove);
    const bin = path.join(tmp.dir, 'main_api_axcl_aarch64');
    writeFileSync(bin, '#!/bin/sh\necho should not run\n');
    chmodSync(bin, 0o644);
    await rejectsWith(ManagedChild.start(spec(bin, { lineBuffered })), 'BINARY_NOT_EXECUTABLE', /not executable \(EACCES\)/);
    await rejectsWith(ManagedChild.start(spec('./main_api_axcl_aarch64', { lineBuffered, cwd: tmp.dir })), 'BINARY_NOT_EXECUTABLE', /EACCES/);
  });
}

test('a missing working folder rejects start with CONFIG_INVALID', async () => {
  await rejectsWith(ManagedChild.start(spec(process.execPath, { cwd: '/nonexistent/model/folder' })), 'CONFIG_INVALID', /working folder/);
});
