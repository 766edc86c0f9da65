/**
 * ax650-mqtt in a real Node-RED flow with the real Runtime on the simulator, against mosquitto
 * with password authentication (credentials from Node-RED's credential store): a v5 round trip
 * with the Correlation Data echoed, presence, a malformed payload, wrong credentials, a bad
 * configuration, and a close in the middle of a reply.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from './flow';

const USER = 'robot';
const PASSWORD = 's3cret pass';

describe('ax650-mqtt on mosquitto (MQTT 5)', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let flow: BridgeFlow;
  let req: Requester;

  before(async () => {
    mosq = await startMosquitto({ users: { [USER]: PASSWORD } });
    flow = await startBridgeFlow({
      broker: mosq.url,
      bridges: [
        { id: 'bridge', topic: 'fleet/+/ask', baseTopic: 'robots/r1', qos: '1', protocolVersion: '5' },
        { id: 'intruder', topic: 'intruder/ask', protocolVersion: '5' },
        { id: 'misconfigured', topic: 'bad/#/ask' },
      ],
      credentials: { bridge: { user: USER, password: PASSWORD }, intruder: { user: USER, password: 'wrong' } },
      // Replies of about 2 s, so that a close can land in the middle of one.
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '100', AX650_SIM_REPLY_TOKENS: '200' },
    });
    req = await Requester.connect(mosq.url, { username: USER, password: PASSWORD });
    await req.subscribe('robots/r1/status');
    await req.subscribe('reply/#');
    await flow.waitForStatus('bridge', isConnected, 'connected');
  });

  after(async () => {
    await req?.close();
    await flow?.close();
    if (mosq) await stopMosquitto(mosq);
  });

  test('a v5 prompt is answered on its Response Topic with the Correlation Data unchanged', async () => {
    const correlation = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
    await req.publish('fleet/r1/ask', JSON.stringify({ prompt: 'Say hello to the robot fleet.', id: 'rt-1' }), {
      qos: 1,
      properties: { responseTopic: 'reply/rt-1', correlationData: correlation, contentType: 'application/json' },
    });
    const end = await req.terminalOf('rt-1', 30_000);
    const replies = req.forId('rt-1');
    assert.ok(replies.every((r) => r.topic === 'reply/rt-1'));
    assert.ok(replies.every((r) => r.correlation === correlation.toString('hex')), 'correlation echoed on every message');
    const deltas = replies.filter((r) => !isTerminal(r));
    assert.ok(deltas.length > 0, 'deltas streamed');
    assert.deepEqual(deltas.map((d) => d.body.index), deltas.map((_, i) => i));
    assert.deepEqual(replies.map((r) => r.userProperties?.seq), replies.map((_, i) => String(i)));
    assert.equal(end.userProperties?.done, 'true');
    assert.equal(end.body.text, deltas.map((d) => d.body.delta).join(''), 'the deltas spell the final text');
    assert.ok(String(end.body.text).length > 0);
    assert.doesNotMatch(String(end.body.text), /<think>/);
    const stats = end.body.stats as { doneReason: string; completionTokens: number };
    assert.equal(stats.doneReason, 'stop');
    assert.ok(stats.completionTokens > 0);
    assert.deepEqual(await flow.promptsSeenBy('rt'), ['Say hello to the robot fleet.'], 'the simulator ran exactly that prompt');
  });

  test('presence is retained online while the bridge is connected', async () => {
    await req.waitFor((rs) => rs.some((r) => r.topic === 'robots/r1/status'), 5000, 'presence');
    const last = req.replies.filter((r) => r.topic === 'robots/r1/status').at(-1);
    assert.deepEqual(last?.body, { raw: 'online' });
  });

  test('a malformed payload gets a BAD_INPUT reply and the next prompt works', async () => {
    const props = (c: string) => ({ qos: 1 as const, properties: { responseTopic: 'reply/bad', correlationData: Buffer.from(c) } });
    await req.publish('fleet/r2/ask', '{"prompt": 42', props('broken'));
    await req.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('broken').toString('hex')), 10_000, 'the error reply');
    const bad = req.forCorrelation(Buffer.from('broken').toString('hex'));
    assert.equal(bad.length, 1);
    assert.equal((bad[0]!.body.error as { code: string }).code, 'BAD_INPUT');
    assert.equal(bad[0]!.body.done, true);
    await req.publish('fleet/r2/ask', 'plain text works too', props('good'));
    await req.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('good').toString('hex') && isTerminal(r)), 30_000, 'the good reply');
    const good = req.forCorrelation(Buffer.from('good').toString('hex')).find(isTerminal)!;
    assert.equal(typeof good.body.text, 'string');
  });

  test('an expired prompt never runs, a duplicate is answered once, 10 malformed payloads each get an error', async () => {
    const send = (c: string, payload: string, expiry?: number) => req.publish('fleet/r4/ask', payload, {
      qos: 1,
      properties: { responseTopic: 'reply/r4', correlationData: Buffer.from(c), ...(expiry ? { messageExpiryInterval: expiry } : {}) },
    });
    const ends = (c: string) => req.forCorrelation(Buffer.from(c).toString('hex')).filter(isTerminal);
    const before = (await flow.promptsSeenBy('rt')).length;
    // The first reply keeps the NPU busy for about 2 s, longer than the second prompt's 1 s expiry.
    await send('busy', 'Keep the NPU busy for a while.');
    await send('late', 'Too late to matter.', 1);
    await send('twice', 'Answer me once.');
    await send('twice', 'Answer me once.');
    const malformed = ['{', '{"prompt": 42}', '{"prompt": "x", "options": {"temperature": 9}}', '{"options": {"top_k": "many"}, "prompt": "x"}', '{"prompt": ""}',
      '{"messages": []}', '{"prompt": "x", "options": {"bogus": 1}}', '{"prompt": "x", "replyTo": "a/#"}', '{"prompt": "x", "system": 7}', '{"prompt": "x", "conversation": 5}'];
    for (const [i, m] of malformed.entries()) await send(`bad-${i}`, m);
    await send('after', 'Still there?');
    await req.waitFor(() => ['busy', 'late', 'twice', 'after'].every((c) => ends(c).length > 0), 60_000, 'the four ends');
    for (const [i] of malformed.entries()) {
      const e = ends(`bad-${i}`);
      assert.equal(e.length, 1, `malformed ${i}`);
      assert.equal((e[0]!.body.error as { code: string }).code, 'BAD_INPUT', `malformed ${i}: ${JSON.stringify(e[0]!.body)}`);
    }
    assert.equal((ends('late')[0]!.body.error as { code: string }).code, 'EXPIRED');
    assert.equal(ends('twice').length, 1, 'the duplicate was not answered again');
    assert.equal(typeof ends('after')[0]!.body.text, 'string');
    const ran = (await flow.promptsSeenBy('rt')).slice(before);
    assert.deepEqual(ran, ['Keep the NPU busy for a while.', 'Answer me once.', 'Still there?'], 'only these reached the runtime, once each');
  });

  test('wrong credentials: the node is never connected and says why once per distinct error', async () => {
    await flow.waitForWarning('intruder', /not authori[sz]ed|bad user name or password/i);
    assert.ok(!(flow.statuses.get('intruder') ?? []).some(isConnected), JSON.stringify(flow.statuses.get('intruder')));
    const warnings = flow.warnings.get('intruder')!;
    assert.equal(new Set(warnings).size, warnings.length, 'a repeated error is logged once');
  });

  test('an invalid topic filter is refused at deploy with CONFIG_INVALID in the status', () => {
    const statuses = flow.statuses.get('misconfigured')!;
    assert.equal(statuses.length, 1, 'never tried to connect');
    assert.equal(statuses[0]?.fill, 'red');
    assert.match(flow.errors.get('misconfigured')!.join('\n'), /The prompt topic "bad\/#\/ask" is not a valid MQTT topic filter/);
  });

  test('closing the flow mid-reply ends the stream once, says offline, and leaves no process', async () => {
    await req.publish('fleet/r3/ask', JSON.stringify({ prompt: 'Tell a long story about a very patient robot.', id: 'cut' }), {
      qos: 1,
      properties: { responseTopic: 'reply/cut', correlationData: Buffer.from('cut') },
    });
    await req.waitFor((rs) => rs.some((r) => r.body.id === 'cut' && r.body.delta !== undefined), 30_000, 'the reply to begin');
    const started = Date.now();
    await flow.close();
    assert.ok(Date.now() - started < 15_000, 'inside the close budget of Node-RED');
    const end = await req.terminalOf('cut', 5000);
    assert.equal(req.forId('cut').filter(isTerminal).length, 1);
    const stats = end.body.stats as { doneReason?: string } | undefined;
    const code = (end.body.error as { code?: string } | undefined)?.code;
    assert.ok(stats?.doneReason === 'abort' || code === 'ABORTED', JSON.stringify(end.body));
    await req.waitFor((rs) => rs.filter((r) => r.topic === 'robots/r1/status').at(-1)?.body.raw === 'offline', 5000, 'offline');
    for (const pid of flow.pids()) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  });
});
