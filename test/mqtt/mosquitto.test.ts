/**
 * The bridge against Debian's mosquitto 2 (a child process on a free port): MQTT 5 correlation,
 * the same over 3.1.1, third-party command-line clients, message expiry, duplicate delivery,
 * shared subscriptions across two bridges, and prompts kept by the broker while a bridge is away.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { FakeRunner } from '../helpers/fake-runner';
import { isGone, MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from './brokers';
import { startTestBridge, type TestBridge } from './harness';
import { waitForLine } from './lines';
import { isTerminal, Requester } from './requester';
import type { MqttBridgeOptions } from '../../lib/mqtt/bridge';

describe('bridge on mosquitto', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  const cleanups: Array<() => Promise<void>> = [];
  const children: ChildProcess[] = [];

  before(async () => {
    mosq = await startMosquitto();
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    }
    await stopMosquitto(mosq);
    for (const child of children) assert.ok(child.pid === undefined || isGone(child.pid), `pid ${child.pid} left behind`);
  });

  async function bridge(runner: FakeRunner, opts: Partial<MqttBridgeOptions> & { promptTopic: string }): Promise<TestBridge> {
    const tb = await startTestBridge({ runner, url: mosq.url, ...opts });
    cleanups.push(() => tb.bridge.close());
    assert.equal(tb.bridge.connected, true, JSON.stringify(tb.statuses));
    return tb;
  }

  async function requester(protocolVersion: 4 | 5 = 5): Promise<Requester> {
    const req = await Requester.connect(mosq.url, { protocolVersion });
    cleanups.push(() => req.close());
    return req;
  }

  function cli(cmd: string, args: string[]): ChildProcess {
    // The mosquitto clients block-buffer stdout into a pipe; stdbuf makes their lines readable as they come.
    const argv = ['-oL', cmd, '-h', '127.0.0.1', '-p', String(mosq.port), ...args];
    const child = spawn('stdbuf', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  }

  test('v5 round trip: every reply goes to the Response Topic with the Correlation Data unchanged', async () => {
    const runner = new FakeRunner({ reply: () => 'Turning left now.' });
    await bridge(runner, { promptTopic: 'v5/+/prompt', clientId: 'v5-bridge' });
    const req = await requester();
    await req.subscribe('v5/replies/7');
    const corr = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);
    await req.publish('v5/robot1/prompt', JSON.stringify({ prompt: 'turn?', id: 'p7' }), {
      qos: 1,
      properties: { responseTopic: 'v5/replies/7', correlationData: corr, contentType: 'application/json', messageExpiryInterval: 60 },
    });
    const final = await req.terminalOf('p7');
    const all = req.forId('p7');
    assert.ok(all.length >= 2, 'streamed deltas came first');
    assert.ok(all.every((r) => r.correlation === 'dead00beef' && r.topic === 'v5/replies/7'));
    assert.deepEqual(all.map((r) => r.userProperties?.seq), all.map((_, i) => String(i)));
    assert.deepEqual(all.map((r) => r.userProperties?.done), all.map((_, i) => String(i === all.length - 1)));
    assert.equal(final.body.text, 'Turning left now.');
    assert.ok(runner.ran[0]?.notAfter !== undefined && runner.ran[0].notAfter > Date.now(), 'expiry became the deadline');
  });

  test('v3.1.1 bridge and requester on mosquitto: replyTo and <topic>/response', async () => {
    const runner = new FakeRunner();
    await bridge(runner, { promptTopic: 'v3/prompt', protocolVersion: 4, clientId: 'v3-bridge', stream: false });
    const req = await requester(4);
    await req.subscribe('v3/mine');
    await req.subscribe('v3/prompt/response');
    await req.publish('v3/prompt', JSON.stringify({ prompt: 'a', id: 'x1', replyTo: 'v3/mine' }));
    await req.publish('v3/prompt', JSON.stringify({ prompt: 'b', id: 'x2' }));
    assert.equal((await req.terminalOf('x1')).topic, 'v3/mine');
    assert.equal((await req.terminalOf('x2')).topic, 'v3/prompt/response');
    assert.equal(req.replies.length, 2, 'stream:false sends only the final message');
  });

  test('third-party clients: mosquitto_pub + mosquitto_sub (3.1.1) and mosquitto_rr (5)', async () => {
    const runner = new FakeRunner({ reply: () => 'Hello from the NPU.' });
    await bridge(runner, { promptTopic: 'cli/prompt', clientId: 'cli-bridge' });
    const sub = cli('mosquitto_sub', ['-V', 'mqttv311', '-q', '1', '-t', 'cli/out', '-d']);
    await waitForLine(sub.stdout!, (l) => l.startsWith('Subscribed'), 10_000);
    const finalLine = waitForLine(sub.stdout!, (l) => l.includes('"done":true'), 15_000);
    const pub = cli('mosquitto_pub', ['-V', 'mqttv311', '-q', '1', '-t', 'cli/prompt', '-m', '{"prompt":"hi","id":"cli-1","replyTo":"cli/out"}']);
    const [code] = (await once(pub, 'exit')) as [number | null];
    assert.equal(code, 0);
    const final = JSON.parse(await finalLine) as { id: string; text: string; done: boolean };
    assert.deepEqual([final.id, final.text, final.done], ['cli-1', 'Hello from the NPU.', true]);

    const rr = cli('mosquitto_rr', ['-t', 'cli/prompt', '-e', 'cli/rr', '-m', 'plain prompt', '-W', '15', '-D', 'publish', 'correlation-data', 'rr-42', '-F', '%D %p']);
    let out = '';
    rr.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const [rrCode] = (await once(rr, 'exit')) as [number | null];
    assert.equal(rrCode, 0, out);
    const [corr, ...rest] = out.trim().split(' ');
    assert.equal(corr, 'rr-42');
    const first = JSON.parse(rest.join(' ')) as { index: number; delta: string };
    assert.equal(first.index, 0);
    assert.equal(typeof first.delta, 'string');
  });

  test('a prompt whose Message Expiry passes while it waits in the queue never runs (EXPIRED reply)', async () => {
    const runner = new FakeRunner({ tokensPerSecond: 20, reply: () => 'w '.repeat(40) });
    await bridge(runner, { promptTopic: 'exp/prompt', clientId: 'exp-bridge' });
    const req = await requester();
    await req.subscribe('exp/resp');
    const props = (c: string, expiry?: number) => ({
      qos: 1 as const,
      properties: { responseTopic: 'exp/resp', correlationData: Buffer.from(c), ...(expiry ? { messageExpiryInterval: expiry } : {}) },
    });
    await req.publish('exp/prompt', JSON.stringify({ prompt: 'long job', id: 'long' }), props('long'));
    await req.waitFor((rs) => rs.some((r) => r.body.id === 'long' && r.body.delta !== undefined), 5000, 'the long job to start');
    await req.publish('exp/prompt', JSON.stringify({ prompt: 'stale soon', id: 'stale' }), props('stale', 1));
    const expired = await req.terminalOf('stale', 10_000);
    assert.equal((expired.body.error as { code: string }).code, 'EXPIRED');
    assert.equal(expired.correlation, Buffer.from('stale').toString('hex'));
    await req.terminalOf('long');
    assert.deepEqual(runner.ran.map((r) => r.prompt), ['long job']);
    assert.equal(runner.submitted.length, 2);
  });

  test('a duplicate delivery with the same Correlation Data is answered once', async () => {
    const runner = new FakeRunner();
    await bridge(runner, { promptTopic: 'dup/prompt', clientId: 'dup-bridge' });
    const req = await requester();
    await req.subscribe('dup/resp');
    const opts = { qos: 1 as const, properties: { responseTopic: 'dup/resp', correlationData: Buffer.from('same') } };
    await req.publish('dup/prompt', 'answer me once', opts);
    await req.publish('dup/prompt', 'answer me once', { ...opts, dup: true });
    await req.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('same').toString('hex') && isTerminal(r)));
    await req.publish('dup/prompt', 'marker', { qos: 1, properties: { responseTopic: 'dup/resp', correlationData: Buffer.from('mark') } });
    await req.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('mark').toString('hex') && isTerminal(r)));
    assert.equal(req.forCorrelation(Buffer.from('same').toString('hex')).filter(isTerminal).length, 1);
    assert.deepEqual(runner.ran.map((r) => r.prompt), ['answer me once', 'marker']);
  });

  test('two bridges in one shared-subscription group split 20 prompts, each answered exactly once', async () => {
    const runners = [new FakeRunner({ queueLimit: 20, tokensPerSecond: 2000 }), new FakeRunner({ queueLimit: 20, tokensPerSecond: 2000 })];
    for (const [i, runner] of runners.entries()) {
      await bridge(runner, { promptTopic: 'fleet/prompt', shareGroup: 'npus', clientId: `fleet-${i}`, stream: false });
    }
    const req = await requester();
    await req.subscribe('fleet/resp');
    for (let i = 0; i < 20; i++) {
      await req.publish('fleet/prompt', `prompt ${i}`, {
        qos: 1,
        properties: { responseTopic: 'fleet/resp', correlationData: Buffer.from(`c${i}`) },
      });
    }
    await req.waitFor((rs) => rs.filter(isTerminal).length >= 20, 15_000, '20 answers');
    const answered = req.replies.filter(isTerminal).map((r) => Buffer.from(r.correlation ?? '', 'hex').toString()).sort();
    assert.deepEqual(answered, Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
    const counts = runners.map((r) => r.ran.length);
    assert.equal(counts[0]! + counts[1]!, 20);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both bridges served: ${counts.join('/')}`);
  });

  test('a QoS 1 prompt published while the bridge was away is answered when it comes back', async () => {
    const first = new FakeRunner();
    const away = await startTestBridge({ runner: first, url: mosq.url, promptTopic: 'away/prompt', clientId: 'away-bridge', sessionExpirySec: 300 });
    await away.bridge.close();
    const req = await requester();
    await req.subscribe('away/resp');
    await req.publish('away/prompt', 'are you there?', { qos: 1, properties: { responseTopic: 'away/resp', correlationData: Buffer.from('later') } });
    const second = new FakeRunner();
    await bridge(second, { promptTopic: 'away/prompt', clientId: 'away-bridge', sessionExpirySec: 300 });
    await req.waitFor((rs) => rs.some(isTerminal), 10_000, 'the answer after the return');
    assert.equal(first.ran.length, 0);
    assert.deepEqual(second.ran.map((r) => r.prompt), ['are you there?']);
  });
});
