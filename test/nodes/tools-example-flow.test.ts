/**
 * The robot-arm example (examples/robot-arm-tools.json) run in real Node-RED on the kind under test,
 * its injects pressed in order: "Pick up the cup" runs a tool round through the example's own tool
 * branches (function nodes), "What did you just do?" is answered in the same conversation with that
 * round in the model's context, "Forget" resets it. The simulator's tool script plays the model.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TEST_KIND } from '../helpers/kind';
import { coreNode, getHelper, toolNodes } from '../helpers/nr';
import type { NodeMessage } from '../../nodes/red-types';
import { startExampleFlow, type ExampleFlow } from './example-flow';

const SCRIPT = [
  { calls: [{ name: 'move', arguments: { x: 10 } }, { name: 'grip', arguments: { closed: true } }] },
  { text: 'I moved to x=10 and closed the gripper.' },
  { text: 'I moved the arm and gripped the cup.' },
  { text: 'Nothing yet.' },
];

const helper = getHelper();
let example: ExampleFlow | undefined;
after(async () => {
  await example?.close();
});

test(`the robot-arm example keeps its tool round in the conversation (${TEST_KIND})`, async () => {
  const ex = (example = await startExampleFlow({
    file: 'robot-arm-tools.json',
    simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(SCRIPT) },
    modules: [...toolNodes(), coreNode('common/20-inject.js'), coreNode('function/10-function.js'), coreNode('common/21-debug.js'), coreNode('common/90-comment.js')],
    prepare: (nodes) => {
      (nodes.find((n) => n.type === 'ax650-generate')!['wires'] as string[][])[1]!.push('final');
      nodes.find((n) => n.type === 'catch')!['wires'] = [['caught']];
      return [{ id: 'final', type: 'helper' }, { id: 'caught', type: 'helper' }];
    },
  }));
  const inject = (name: string) => ex.find('inject', name).id;
  const rt = ex.runtime;
  const finals: NodeMessage[] = [];
  const caught: NodeMessage[] = [];
  let wake: () => void = () => undefined;
  helper.getNode('final')!.on('input', (m: NodeMessage) => {
    finals.push(m);
    wake();
  });
  helper.getNode('caught')!.on('input', (m: NodeMessage) => {
    caught.push(m);
    wake();
  });
  const nextFinal = (n: number) =>
    new Promise<NodeMessage>((resolve, reject) => {
      wake = () => (caught.length > 0 ? reject(new Error(JSON.stringify(caught[0]!.error))) : finals.length >= n ? resolve(finals[n - 1]!) : undefined);
      wake();
    });

  helper.getNode(inject('Pick up the cup'))!.receive({});
  const first = await nextFinal(1);
  assert.equal(first.payload, 'I moved to x=10 and closed the gripper.');
  const ran = (first.stats as { toolCalls: Array<{ name: string; result: unknown }> }).toolCalls;
  // The function nodes' objects come from their sandbox: compared as JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(ran.map((c) => [c.name, c.result]))), [['move', { ok: true, x: 10 }], ['grip', { ok: true, closed: true }]], "the example's branches answered");

  helper.getNode(inject('What did you just do?'))!.receive({});
  assert.equal((await nextFinal(2)).payload, 'I moved the arm and gripped the cup.');
  const turns = rt.conversations.get('arm')!.turns;
  assert.deepEqual(turns.map((t) => t.role), ['user', 'assistant', 'tool', 'tool', 'assistant', 'user', 'assistant']);
  assert.deepEqual(turns[1]!.toolCalls!.map((c) => c.name), ['move', 'grip']);

  helper.getNode(inject('Forget'))!.receive({});
  helper.getNode(inject('What did you just do?'))!.receive({});
  assert.equal((await nextFinal(3)).payload, 'Nothing yet.');
  assert.deepEqual(rt.conversations.get('arm')!.turns.map((t) => t.role), ['user', 'assistant'], 'the reset forgot the tool round');
});
