/**
 * Issue 18 item 5: the built-in tokenizer serves the package's runtime only. Foreign `/get_uid`
 * bursts (any local program; a web page can send them cross-site) are refused and cannot evict the
 * runtime's session; browser requests (Origin, Sec-Fetch-Site, a rebinding Host) are refused; a huge
 * `/encode` is refused unread and stalls nothing; the largest legal encode takes well under a second.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { MAX_BODY_BYTES, startTokenizerServer } from '../../lib/tokenizer/server';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';
import { startSimRuntime, stopAll } from '../runtime/helpers';

after(stopAll);

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // The server may close while a refused body is still being written.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}

test('foreign /get_uid bursts and browser requests are refused; the runtime keeps its session and its crash budget', async () => {
  const s = await startSimRuntime({ simEnv: { AX650_SIM_REPLY_TOKENS: '6' } });
  const tok = s.rt.tokenizerServer;
  assert.ok(tok);
  assert.equal(tok.sessionCount, 1, 'the runtime took one uid');
  const port = tok.port;
  for (let burst = 0; burst < 5; burst++) {
    const answers = await Promise.all(Array.from({ length: 70 }, () => send(port, 'GET', '/get_uid')));
    for (const a of answers) {
      assert.equal(a.status, 403);
      assert.match(a.body, /NPU runtime/);
    }
  }
  const browser: Array<[string, 'GET' | 'POST', string, Record<string, string>, string?]> = [
    ['cross-site GET', 'GET', '/get_uid', { origin: 'https://evil.example' }],
    ['no-cors GET', 'GET', '/get_uid', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }],
    ['simple POST', 'POST', '/reset', { origin: 'https://evil.example', 'content-type': 'text/plain' }, '{"uid":"x"}'],
    ['DNS rebinding', 'GET', '/get_uid', { host: `evil.example:${port}` }],
  ];
  for (const [what, method, path, headers, body] of browser) {
    const a = await send(port, method, path, headers, body);
    assert.equal(a.status, 403, what);
  }
  assert.equal(tok.sessionCount, 1);
  const r = await s.rt.submit({ prompt: 'Still there after the burst?' }).result;
  assert.equal(r.stats.doneReason, 'stop');
  assert.equal(s.rt.info().restarts, 0);
  assert.equal(s.rt.state === 'ready' || s.rt.state === 'busy', true);

  // A 9 MB /encode is refused unread: Node-RED's process (this one) spends next to no time on it.
  // CPU time, not wall time: the test machine may be shared, and what matters is the work done here.
  const body9 = JSON.stringify({ uid: 'guess', text: 'x'.repeat(9 * 1024 * 1024) });
  const cpu = process.cpuUsage();
  const huge = await send(port, 'POST', '/encode', { 'content-type': 'application/json' }, body9);
  const used = process.cpuUsage(cpu);
  assert.equal(huge.status, 413);
  assert.match(huge.body, /too large/);
  assert.ok((used.user + used.system) / 1000 < 500, `the refusal cost ${((used.user + used.system) / 1000).toFixed(0)} ms of CPU`);
  await s.stop();
});

test('the largest encode the tokenizer accepts holds the event loop well under a second', async () => {
  const model = await makeTokenizerModelDir();
  const server = await startTokenizerServer({ modelDir: model.dir, port: 0 });
  try {
    const uid = (JSON.parse((await send(server.port, 'GET', '/get_uid')).body) as { uid: string }).uid;
    // Mixed prose and CJK just under the limit once JSON-encoded.
    const unit = 'The robot turns left at the red door. 机器人在红门处左转。';
    const text = unit.repeat(Math.floor((MAX_BODY_BYTES - 200) / Buffer.byteLength(unit)));
    const body = JSON.stringify({ uid, text });
    assert.ok(Buffer.byteLength(body) <= MAX_BODY_BYTES);
    const cpu = process.cpuUsage();
    const a = await send(server.port, 'POST', '/encode', { 'content-type': 'application/json' }, body);
    const used = process.cpuUsage(cpu);
    assert.equal(a.status, 200);
    assert.ok((JSON.parse(a.body) as { diff: number[] }).diff.length > 10_000);
    // The encode runs on the event loop: its CPU time is how long Node-RED could not do anything else.
    assert.ok((used.user + used.system) / 1000 < 1000, `one encode took ${((used.user + used.system) / 1000).toFixed(0)} ms of CPU`);
  } finally {
    await server.close();
    await model.cleanup();
  }
});
