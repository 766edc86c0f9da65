/**
 * The JSON-schema example (examples/json-schema.json) run as shipped in real Node-RED on the kind under
 * test (only the runtime's ports, model folder and simulator speed changed): its inject is pressed and
 * what its debug nodes show in the debug sidebar is checked, as a user would. The simulator's reply script
 * plays the model: a valid {"action", "speed"} reaches the switch's "drive" output; an out-of-range speed is
 * repaired (the validator's sentence goes back to the model) and the repaired "stop" reaches the "stop"
 * output; a reply that stays prose ends at the example's Catch as SCHEMA_MISMATCH with the raw text.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { promptsSent, TEST_KIND } from '../helpers/kind';
import { completeJsonLines } from '../helpers/json-lines';
import { coreNode, getHelper, watchDebugSidebar, type SidebarEntry } from '../helpers/nr';
import { startExampleFlow, type ExampleFlow } from './example-flow';

const RAW_INVALID = 'OK, I will drive forward slowly.';
const REPLY_SCRIPT = [
  '{"action": "forward", "speed": 0.3}',
  // Out of the schema's range (maximum 1), then repaired.
  '{"action": "forward", "speed": 5}',
  '{"action": "stop", "speed": 0}',
  // Prose twice: the repair round does not help.
  'Driving forward slowly now.',
  RAW_INVALID,
];

const helper = getHelper();
let example: ExampleFlow | undefined;
after(async () => {
  await example?.close();
});

test(`the JSON-schema example routes the parsed reply, repairs an invalid one and catches SCHEMA_MISMATCH (${TEST_KIND})`, async () => {
  const ex = (example = await startExampleFlow({
    file: 'json-schema.json',
    simEnv: { AX650_SIM_REPLY_SCRIPT: JSON.stringify(REPLY_SCRIPT) },
    modules: [coreNode('common/20-inject.js'), coreNode('function/10-switch.js'), coreNode('common/21-debug.js'), coreNode('common/90-comment.js')],
  }));
  const command = ex.find('inject', 'Command').id;
  const stop = ex.find('debug', 'stop')['name'] as string;
  const drive = ex.find('debug', 'drive (action, speed)')['name'] as string;
  const errors = ex.find('debug', 'SCHEMA_MISMATCH + raw text')['name'] as string;
  const sidebar = watchDebugSidebar();
  try {
    // What the example's debug nodes showed (the sidebar also lists the nodes' logged errors).
    const debugIds = new Set(ex.nodes.filter((n) => n.type === 'debug').map((n) => n.id));
    const shown = (): SidebarEntry[] => sidebar.entries.filter((e) => debugIds.has(e.id));
    // Resolves with the n-th of them once there are n in all (every press of Command shows exactly one).
    const nth = (n: number): Promise<SidebarEntry> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} debug node outputs, got ${JSON.stringify(sidebar.entries)}`)), 60_000);
        const check = (): void => {
          if (shown().length < n) return;
          clearTimeout(timer);
          helper._events.off('comms', check);
          resolve(shown()[n - 1]!);
        };
        helper._events.on('comms', check);
        check();
      });

    // A valid reply: the parsed object goes out of the switch's "else" output to the drive debug node.
    helper.getNode(command)!.receive({});
    const first = await nth(1);
    assert.equal(first.name, drive, JSON.stringify(first));
    assert.equal(first.format, 'Object');
    assert.deepEqual(JSON.parse(first.msg), { action: 'forward', speed: 0.3 });

    // Invalid (speed 5 > 1), repaired to "stop": the stop debug node shows the repaired object.
    helper.getNode(command)!.receive({});
    const second = await nth(2);
    assert.equal(second.name, stop, JSON.stringify(second));
    assert.deepEqual(JSON.parse(second.msg), { action: 'stop', speed: 0 });
    const prompts = promptsSent(completeJsonLines(await readFile(ex.simLog, 'utf8')) as Array<Record<string, unknown>>);
    assert.match(prompts.at(-1) ?? '', /speed.*must be <= 1/, `the repair round told the model what was wrong: ${JSON.stringify(prompts.at(-1))}`);

    // Still invalid after the repair round: the example's Catch shows SCHEMA_MISMATCH with the raw text.
    helper.getNode(command)!.receive({});
    const third = await nth(3);
    assert.equal(third.name, errors, JSON.stringify(third));
    const error = JSON.parse(third.msg) as { code?: string; message?: string };
    assert.equal(error.code, 'SCHEMA_MISMATCH');
    assert.ok(error.message?.endsWith(`Raw reply: ${RAW_INVALID}`), error.message);

    assert.deepEqual(shown().map((e) => e.name), [drive, stop, errors], 'nothing else reached a debug node: no invalid reply went on to the switch');
  } finally {
    sidebar.stop();
  }
});
