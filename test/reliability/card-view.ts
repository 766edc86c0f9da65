/**
 * Hardware mode for axllm on a machine without a card, in whole Node-RED processes. axllm's pre-flight
 * wants what a host with an LLM-8850 has: the AXCL host driver's device node (/dev/axcl_host) and the
 * card's free CMM from axcl-smi. cardViewNode writes a Node for startNodeRed's `nodeBin` that runs
 * Node-RED in a mount namespace of its own whose /dev has that node (an overlay on the real /dev, in
 * memory: nothing is written outside, other processes on the machine see no card); cardViewEnv puts the
 * fake axcl-smi of test/fixtures/axcl first on PATH. The namespace needs root (unshare, mount): on a
 * machine where it cannot be made, cardViewNode says why and the test skips.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sq } from '../../simulator/model-dir';
import { FIXTURES } from '../device/helpers';

export const CARD_NODE = '/dev/axcl_host';

/** Writes `<dir>/node-with-card`; returns its path, or the reason the namespace cannot be made here. */
export function cardViewNode(dir: string): { node: string } | { skip: string } {
  const node = path.join(dir, 'node-with-card');
  const layer = path.join(dir, 'dev-layer');
  writeFileSync(node, [
    '#!/bin/sh',
    // Re-run itself inside a private mount namespace; unshare and both execs keep the pid, so the test kills Node-RED itself.
    'if [ -z "$AX650_TEST_CARD_VIEW" ]; then AX650_TEST_CARD_VIEW=1 exec unshare --mount --propagation private "$0" "$@"; fi',
    `layer=$(mktemp -d ${sq(layer)}.XXXXXX) && mount -t tmpfs tmpfs "$layer" && mkdir "$layer/upper" "$layer/work" &&`,
    `  mount -t overlay overlay -o "lowerdir=/dev,upperdir=$layer/upper,workdir=$layer/work" /dev && : > ${CARD_NODE} || exit 97`,
    `exec ${sq(process.execPath)} "$@"`,
    '',
  ].join('\n'));
  chmodSync(node, 0o755);
  const probe = spawnSync(node, ['-e', `require('node:fs').accessSync(${JSON.stringify(CARD_NODE)})`], { encoding: 'utf8' });
  if (probe.status !== 0) return { skip: `cannot give Node-RED a card device node here (a mount namespace needs root): ${probe.stderr.trim().slice(0, 200)}` };
  return { node };
}

/** The fake axcl-smi (one AX650N card, CMM mostly free) found on PATH, as the driver package installs it. */
export function cardViewEnv(): Record<string, string> {
  return { PATH: `${FIXTURES}${path.delimiter}${process.env['PATH'] ?? ''}` };
}
