/**
 * Tools and format over ax650-mqtt in real Node-RED, on mosquitto (MQTT 5) and the simulator of the kind
 * under test, its scripted model (AX650_SIM_TOOL_SCRIPT / AX650_SIM_REPLY_SCRIPT) playing the model. As a
 * robot would: a prompt with `tools` gets the `tool_calls` message on its Response Topic, then the
 * terminal one; the robot runs the tool and sends the conversation back with the `tool` turn (docs/mqtt.md),
 * and the model's final answer comes back. A prompt with `format` (a JSON Schema) ends with the parsed `value`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MOSQUITTO_SKIP } from '../mqtt/brokers';
import { isTerminal, Requester, type Reply } from '../mqtt/requester';
import { TEST_KIND } from '../helpers/kind';
import { spyContexts } from '../edge/sim-log';
import { startMosquittoRig, type BridgeFlow, type MosquittoRig } from './flow';

const MOVE = {
  type: 'function',
  function: { name: 'move', description: 'Move the arm to x (cm).', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
};
const DRIVE = {
  type: 'object',
  properties: { action: { type: 'string', enum: ['forward', 'back', 'stop'] }, speed: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['action', 'speed'],
};
const FINAL = 'The arm is at 12 cm.';
// What the robot's tool answered: the model must have been sent it.
const RESULT = 'arm reached x=12 cm';
const TOOL_SCRIPT = [{ calls: [{ name: 'move', arguments: { x: 12 } }] }, { text: FINAL }];
const REPLY_SCRIPT = ['{"action": "forward", "speed": 0.5}'];

type WireCall = { id: string; name: string; arguments: Record<string, unknown> };

describe(`ax650-mqtt with tools and format on mosquitto (${TEST_KIND})`, { skip: MOSQUITTO_SKIP }, () => {
  let rig: MosquittoRig | undefined;
  let flow: BridgeFlow;
  let req: Requester;

  before(async () => {
    rig = await startMosquittoRig({
      bridges: [{ id: 'bridge', topic: 'robots/ask', qos: '1', protocolVersion: '5' }],
      simEnv: { AX650_SIM_TOOL_SCRIPT: JSON.stringify(TOOL_SCRIPT), AX650_SIM_REPLY_SCRIPT: JSON.stringify(REPLY_SCRIPT) },
      subscribe: ['robots/reply/#'],
    });
    ({ flow, req } = rig);
  });

  after(async () => {
    await rig?.close();
  });

  const ask = (body: Record<string, unknown>, correlation: string): Promise<void> =>
    req.publish('robots/ask', JSON.stringify(body), {
      qos: 1,
      properties: { responseTopic: `robots/reply/${correlation}`, correlationData: Buffer.from(correlation), contentType: 'application/json' },
    });
  const kindOf = (r: Reply): string => (typeof r.body.type === 'string' ? r.body.type : isTerminal(r) ? 'done' : 'delta');

  test('a tool call arrives as its own message, the robot sends the result back, the final answer follows', async () => {
    await ask({ id: 'arm-1', prompt: 'Move the arm to 12 cm.', tools: [MOVE], tool_choice: 'auto' }, 'c-arm-1');
    const end = await req.terminalOf('arm-1', 60_000);
    const replies = req.forId('arm-1');
    assert.deepEqual(replies.map(kindOf), ['tool_calls', 'done'], 'no deltas for a tools turn');
    assert.ok(replies.every((r) => r.topic === 'robots/reply/c-arm-1' && r.correlation === Buffer.from('c-arm-1').toString('hex')), 'on the Response Topic, Correlation Data echoed');
    const [announced] = replies;
    assert.equal(announced!.userProperties?.done, 'false');
    const calls = announced!.body.toolCalls as WireCall[];
    assert.deepEqual(calls.map((c) => [c.name, c.arguments]), [['move', { x: 12 }]]);
    assert.match(calls[0]!.id, /\S/, 'the call has an id to answer');
    assert.deepEqual(Object.keys(announced!.body).sort(), ['id', 'toolCalls', 'type']);
    assert.equal(end.userProperties?.done, 'true');
    assert.deepEqual((end.body.toolCalls as WireCall[]).map((c) => [c.id, c.name, c.arguments]), [[calls[0]!.id, 'move', { x: 12 }]]);
    assert.equal(end.body.error, undefined);

    // The robot moved the arm; it sends the conversation with the tool turn, as docs/mqtt.md says.
    const model = spyContexts({ runtime: flow.runtime(), simLog: flow.simLogFile('rt') });
    await ask({
      id: 'arm-2',
      tools: [MOVE],
      messages: [
        { role: 'user', content: 'Move the arm to 12 cm.' },
        { role: 'assistant', content: '', tool_calls: [{ id: calls[0]!.id, function: { name: 'move', arguments: { x: 12 } } }] },
        { role: 'tool', tool_call_id: calls[0]!.id, content: RESULT },
      ],
    }, 'c-arm-2');
    const final = await req.terminalOf('arm-2', 60_000);
    assert.equal(final.body.text, FINAL, JSON.stringify(final.body));
    assert.deepEqual(req.forId('arm-2').map(kindOf), ['done'], 'no more tool calls');
    assert.equal(final.body.toolCalls, undefined);
    assert.match(await model.last(), new RegExp(`${TEST_KIND === 'axllm' ? 'tool: ' : '<tool_response>\\n'}${RESULT}`), "the tool's result reached the model");
  });

  test('a prompt with a JSON Schema format ends with the parsed value', async () => {
    await ask({ id: 'drive-1', prompt: 'Drive forward at half speed.', format: DRIVE }, 'c-drive-1');
    const end = await req.terminalOf('drive-1', 60_000);
    assert.deepEqual(req.forId('drive-1').map(kindOf), ['done'], 'no deltas for a format turn');
    assert.deepEqual(end.body.value, { action: 'forward', speed: 0.5 }, JSON.stringify(end.body));
    assert.deepEqual(JSON.parse(String(end.body.text)), end.body.value);
    assert.equal(end.body.error, undefined);
  });
});
