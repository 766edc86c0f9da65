import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseLspci, parseMeminfo } from '../../lib/device/host-parsers';
import { parseCmmInfo, parseSmiError, parseSmiTable } from '../../lib/device/smi-parser';

const fixture = (name: string): string => readFileSync(path.resolve(__dirname, '../fixtures/axcl', name), 'utf8');

test('V3.4.0 table from the reference sample: one AX650N card and its process', () => {
  const t = parseSmiTable(fixture('smi-v3.4.0.txt'));
  assert.equal(t.recognized, true);
  assert.equal(t.smiVersion, 'V3.4.0_20250423020139');
  assert.equal(t.driverVersion, 'V3.4.0_20250423020139');
  assert.deepEqual(t.cards, [{
    index: 0, name: 'AX650N', firmware: 'V3.4.0', busId: '0000:01:00.0', busNumber: 1,
    memoryUsedMiB: 193, memoryTotalMiB: 945, fan: '--', temperatureC: 37, power: '-- / --',
    cpuPercent: 2, npuPercent: 0, cmmUsedMiB: 6348, cmmTotalMiB: 7040,
  }]);
  assert.deepEqual(t.processes, [{ card: 0, pid: 84643, path: '/home/axera/samples/qwen3-4b/main_axcl_aarch64', npuMemoryKiB: 4894032 }]);
});

test('AX8850 variant from the V3.10.2 format strings: two cards, a 3-digit temperature, a path with a space', () => {
  const t = parseSmiTable(fixture('smi-ax8850-v3.10.2.txt'));
  assert.equal(t.smiVersion, 'V3.10.2_20251106020144');
  assert.deepEqual(t.cards.map((c) => [c.index, c.name, c.firmware, c.busId, c.busNumber, c.temperatureC, c.npuPercent, c.cmmUsedMiB]), [
    [0, 'AX8850', 'V3.10.2', '0001:01:00.0', 1, 55, 87, 4412],
    [1, 'AX8850', 'V3.10.2', '0001:03:00.0', 3, 101, 0, 18],
  ]);
  assert.deepEqual(t.processes.map((p) => [p.card, p.pid, p.path, p.npuMemoryKiB]), [
    [0, 2211, '/home/pi/models/Qwen3-4B/main_api_axcl_aarch64', 4517888],
    [1, 2301, '/opt/my robot/bin/vision', 20480],
  ]);
});

test('a dead card prints the frame without rows: zero cards, no exception', () => {
  const t = parseSmiTable(fixture('smi-dead.txt'));
  assert.equal(t.recognized, true);
  assert.deepEqual(t.cards, []);
  assert.deepEqual(t.processes, []);
});

test('text that is not a table is not recognized', () => {
  const t = parseSmiTable('Segmentation fault\n');
  assert.equal(t.recognized, false);
  assert.deepEqual(t.cards, []);
});

test('info --cmm: Device ID is the PCIe bus number; Remain uses a lowercase kiB', () => {
  assert.deepEqual(parseCmmInfo(fixture('info-cmm.txt')), { busNumber: 129, totalKiB: 3145728, usedKiB: 18876, remainKiB: 3126852 });
  assert.equal(parseCmmInfo('Device ID           : 1 (0x1)\nCMM Total           :  7208960 KiB\n'), null);
});

test('vendor error strings', () => {
  assert.deepEqual(parseSmiError('device index 2 is out of connected devices number 1\n'), {
    kind: 'out-of-range', index: 2, count: 1, message: 'device index 2 is out of connected devices number 1',
  });
  assert.deepEqual(parseSmiError('axcl init fail, ret = 0x8030010b'), { kind: 'init-failed', code: 0x8030010b, message: 'axcl init fail, ret = 0x8030010b' });
  assert.deepEqual(parseSmiError('active device 0 fail, ret = 0x1f'), { kind: 'activate-failed', index: 0, code: 0x1f, message: 'active device 0 fail, ret = 0x1f' });
  assert.equal(parseSmiError('axcl-smi is already running, please try later.')?.kind, 'busy');
  assert.equal(parseSmiError(fixture('smi-v3.4.0.txt')), null);
});

test('meminfo: MemAvailable, CmaTotal, CmaFree', () => {
  assert.deepEqual(parseMeminfo(fixture('meminfo.txt')), { memTotalKiB: 8245360, memAvailableKiB: 5123456, cmaTotalKiB: 65536, cmaFreeKiB: 42016 });
  assert.deepEqual(parseMeminfo('MemTotal: 100 kB\n'), { memTotalKiB: 100, memAvailableKiB: null, cmaTotalKiB: null, cmaFreeKiB: null });
});

test('lspci -n: only 1f4b:0650 functions', () => {
  assert.deepEqual(parseLspci(fixture('lspci-n.txt')), ['0000:01:00.0']);
  assert.deepEqual(parseLspci('01:00.0 0400: 1F4B:0650 (rev 01)\n00:00.0 0600: 8086:1234\n'), ['01:00.0']);
  assert.deepEqual(parseLspci(''), []);
});
