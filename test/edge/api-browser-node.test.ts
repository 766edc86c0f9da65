/**
 * The ax650-api node as web pages and other clients see it (issue 19 items 4 and 5), in real
 * Node-RED on the simulator: foreign Origins and Host names are refused, no generation runs for a
 * request a browser can send cross-site without a preflight, the allowed origin gets CORS, real
 * ollama/openai clients and `curl -d` keep working, and a malformed URL is a 400 with a sentence.
 * A real Chromium page on a second origin tries fetch no-cors, form posts and DNS rebinding.
 * The model folder is of the runtime kind under test, so this runs on the 2025 runtime and on axllm.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { Runtime } from '../../lib/runtime/runtime';
import { createKindModelDir, promptsSent, TEST_KIND } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, isAlive } from '../helpers/sim';
import { getHelper, runtimeNode, type FlowNode, type NodeModule } from '../helpers/nr';
import { chromiumPath, openBrowser, SKIP_NO_CHROMIUM } from '../editor/browser';
import { readSimLog } from './sim-log';

const apiNode = (): NodeModule => (require(path.resolve(__dirname, '../../nodes/ax650-api.js')) as { default: NodeModule }).default;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http, because fetch will not send a Host header of the caller's choosing. */
function send(port: number, method: string, pathname: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The raw request line, for targets no HTTP client will send. */
function rawRequest(port: number, requestLine: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`${requestLine}\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
  });
}

const GENERATE = JSON.stringify({ model: 'qwen3-ax650', prompt: 'Drive the robot into the wall.', stream: false });

describe('ax650-api node: browsers, foreign hosts and other clients', () => {
  const helper = getHelper();
  let dir: string;
  let simLog: string;
  let port: number;
  let runtime: Runtime;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-edge-api-'));
    const modelDir = path.join(dir, 'model');
    await createKindModelDir(modelDir);
    simLog = path.join(dir, 'sim.log');
    port = await freePort();
    await helper.startServer();
    const flow: FlowNode[] = [
      { id: 'tab', type: 'tab', label: 'api' },
      {
        id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, tokenizerPort: await freePort(), runtimePort: await freePort(), startOn: 'deploy',
        simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '12', AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_LOG: simLog }),
      },
      { id: 'api', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port: String(port), origins: 'https://chat.example.com', hosts: 'robot.lan' },
    ];
    await helper.load([runtimeNode(), apiNode()], flow);
    runtime = (helper.getNode('rt') as unknown as { runtime: Runtime }).runtime;
    await runtime.start();
    assert.equal(runtime.cfg.kind, TEST_KIND, 'runtime auto picked the kind of the folder under test');
    // The node listens once its server is up; the port refuses connections until then.
    const deadline = Date.now() + 10_000;
    while (!(await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false))) {
      if (Date.now() > deadline) throw new Error('the API node did not listen within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  after(async () => {
    const pid = runtime.info().pid;
    await helper.unload();
    await helper.stopServer();
    await rm(dir, { recursive: true, force: true });
    if (pid !== null) assert.equal(isAlive(pid), false, `runtime pid ${pid} gone after unload`);
  });

  async function generations(): Promise<number> {
    // The prompts the runtime got: G1 `POST /api/generate`, axllm `POST /v1/chat/completions`.
    return promptsSent(await readSimLog(simLog)).length;
  }

  test('refused with real headers before anything runs: foreign Origin, foreign Host, simple browser posts', async () => {
    const host = `127.0.0.1:${port}`;
    const cases: Array<{ name: string; headers: Record<string, string>; status: number; error: RegExp }> = [
      { name: 'text/plain from a foreign page', headers: { Host: host, Origin: 'https://evil.example', 'Content-Type': 'text/plain;charset=UTF-8' }, status: 403, error: /origin "https:\/\/evil\.example" are not allowed/ },
      { name: 'JSON from a foreign page', headers: { Host: host, Origin: 'https://evil.example', 'Content-Type': 'application/json' }, status: 403, error: /not allowed/ },
      { name: 'Origin null (sandboxed page)', headers: { Host: host, Origin: 'null', 'Content-Type': 'text/plain' }, status: 403, error: /origin "null"/ },
      { name: 'DNS rebinding: foreign Host, no Origin', headers: { Host: `attacker.example:${port}`, 'Content-Type': 'application/json' }, status: 403, error: /Host "attacker\.example:\d+" is not allowed/ },
      { name: 'lookalike of localhost', headers: { Host: `localhost.attacker.example:${port}`, 'Content-Type': 'application/json' }, status: 403, error: /Host/ },
      { name: 'form post from the allowed origin', headers: { Host: host, Origin: 'https://chat.example.com', 'Content-Type': 'application/x-www-form-urlencoded' }, status: 415, error: /application\/json/ },
      { name: 'no-cors post without Origin but with Sec-Fetch headers', headers: { Host: host, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Content-Type': 'text/plain' }, status: 415, error: /application\/json/ },
    ];
    const before = await generations();
    for (const c of cases) {
      const r = await send(port, 'POST', '/api/generate', c.headers, GENERATE);
      assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
      const body = JSON.parse(r.body) as { error: string };
      assert.match(body.error, c.error, c.name);
      assert.equal(r.headers['access-control-allow-origin'], undefined, `${c.name}: nothing a page may read`);
    }
    const openai = await send(port, 'POST', '/v1/chat/completions', { Host: host, Origin: 'https://evil.example', 'Content-Type': 'text/plain' }, '{}');
    assert.equal(openai.status, 403);
    assert.match((JSON.parse(openai.body) as { error: { message: string } }).error.message, /not allowed/, 'OpenAI error shape');
    assert.equal(await generations(), before, 'no generation ran');
    assert.equal(runtime.info().queueDepth, 0);
  });

  test('allowed: loopback names, the allowed host, the allowed origin with CORS and preflight, curl -d', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `robot.lan:${port}`, `${os.hostname()}:${port}`]) {
      assert.equal((await send(port, 'GET', '/api/tags', { Host: host })).status, 200, host);
    }
    const preflight = await send(port, 'OPTIONS', '/api/chat', { Host: `127.0.0.1:${port}`, Origin: 'https://chat.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://chat.example.com');
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /content-type/i);
    assert.equal((await send(port, 'OPTIONS', '/api/chat', { Host: `127.0.0.1:${port}`, Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' })).status, 403);

    const before = await generations();
    const page = await send(port, 'POST', '/api/generate', { Host: `127.0.0.1:${port}`, Origin: 'https://chat.example.com', 'Content-Type': 'application/json' }, GENERATE);
    assert.equal(page.status, 200, page.body);
    assert.equal(page.headers['access-control-allow-origin'], 'https://chat.example.com');
    assert.match(String(page.headers.vary), /Origin/);
    const local = await send(port, 'POST', '/api/generate', { Host: `localhost:${port}`, Origin: 'http://localhost:1880', 'Content-Type': 'application/json' }, GENERATE);
    assert.equal(local.status, 200, 'a page on this machine (the Node-RED dashboard) may call it');
    // curl -d sends application/x-www-form-urlencoded and no browser headers: Ollama's own examples do this.
    const curl = await send(port, 'POST', '/api/generate', { Host: `127.0.0.1:${port}`, 'User-Agent': 'curl/8.5.0', 'Content-Type': 'application/x-www-form-urlencoded' }, GENERATE);
    assert.equal(curl.status, 200, curl.body);
    assert.equal((JSON.parse(curl.body) as { done: boolean }).done, true);
    // Node's own fetch with a string body: text/plain and Sec-Fetch-Mode, but no Origin or Sec-Fetch-Site.
    const script = await fetch(`http://127.0.0.1:${port}/api/generate`, { method: 'POST', body: GENERATE });
    assert.equal(script.status, 200, await script.clone().text());
    assert.equal(((await script.json()) as { done: boolean }).done, true);
    assert.equal(await generations(), before + 4);
  });

  test('real ollama and openai clients still work', async () => {
    const url = `http://127.0.0.1:${port}`;
    const r = await new Ollama({ host: url }).chat({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Hello?' }], stream: false });
    assert.equal(r.done, true);
    assert.ok(r.message.content.length > 0);
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused' });
    const c = await openai.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Hi there.' }] });
    assert.ok((c.choices[0]?.message.content ?? '').length > 0);
    const models = await openai.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['qwen3-ax650']);
  });

  test('malformed percent-encoding and unparseable targets are a 400 with a sentence, not a 500', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/v1/models/%E0%A4%A`);
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { message: string; type: string } };
    assert.match(body.error.message, /not valid percent-encoding/);
    assert.equal(body.error.type, 'invalid_request_error');
    const good = await fetch(`http://127.0.0.1:${port}/v1/models/${encodeURIComponent('qwen3-ax650')}`);
    assert.equal(good.status, 200);
    const odd = await rawRequest(port, 'GET //[ HTTP/1.1');
    assert.match(odd, /^HTTP\/1\.1 404 /, 'a path starting with // is a path');
    assert.match(odd, /unknown endpoint GET \/\/\[/);
    const raw = await rawRequest(port, 'GET http://[ HTTP/1.1');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /not a valid URL path/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200, 'the server is still up');
  });

  test('a Chromium page on another origin: fetch no-cors, form posts and DNS rebinding run nothing', { skip: chromiumPath() === null ? SKIP_NO_CHROMIUM : false }, async () => {
    // The attacker's site: evil.test (and rebind.test) resolve to this machine inside this browser only.
    const pagePort = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const site = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>evil</title>
<form id="plain" method="POST" action="${api}/api/generate" enctype="text/plain"><input name='{"model":"qwen3-ax650","prompt":"form","x":"' value='"}'></form>
<form id="urlenc" method="POST" action="${api}/api/generate"><input name="model" value="qwen3-ax650"><input name="prompt" value="form"></form>`);
    });
    await new Promise<void>((resolve) => site.listen(pagePort, '127.0.0.1', resolve));
    const b = await openBrowser(chromiumPath()!, ['--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1']);
    const statuses: Array<{ url: string; status: number }> = [];
    b.page.on('response', (r) => {
      if (r.url().includes('/api/')) statuses.push({ url: r.url(), status: r.status() });
    });
    const before = await generations();
    try {
      await b.page.goto(`http://evil.test:${pagePort}/`);
      const noCors = await b.page.evaluate(async (target) => {
        const r = await fetch(`${target}/api/generate`, { method: 'POST', mode: 'no-cors', body: JSON.stringify({ model: 'qwen3-ax650', prompt: 'no-cors', stream: false }) });
        return r.type;
      }, api);
      assert.equal(noCors, 'opaque', 'the page cannot read the answer either way');
      for (const form of ['plain', 'urlenc']) {
        await b.page.goto(`http://evil.test:${pagePort}/`);
        const [landed] = await Promise.all([b.page.waitForNavigation(), b.page.$eval(`#${form}`, (f) => (f as unknown as { submit(): void }).submit())]);
        assert.equal(landed?.url(), `${api}/api/generate`);
        assert.equal(landed?.status(), 403, `${form} form post refused`);
      }
      // DNS rebinding: the attacker's name now points at the API's own port, so the page is same-origin with it.
      const landing = await b.page.goto(`http://rebind.test:${port}/`);
      assert.equal(landing?.status(), 403);
      const rebound = await b.page.evaluate(async () => {
        const r = await fetch('/api/generate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-ax650', prompt: 'rebound', stream: false }) });
        return { status: r.status, text: await r.text() };
      });
      assert.equal(rebound.status, 403, rebound.text);
      assert.doesNotMatch(rebound.text, /"response"/, 'no reply to read');
    } finally {
      await b.close();
      await new Promise<void>((resolve) => site.close(() => resolve()));
    }
    const noCorsStatus = statuses.find((s) => s.url === `${api}/api/generate`);
    assert.equal(noCorsStatus?.status, 403, 'the no-cors post was refused');
    assert.equal(await generations(), before, 'not one generation ran for the page');
    assert.equal(runtime.info().queueDepth, 0);
  });
});
