/**
 * The API's browser rules on their own (lib/ollama/access.ts): which origins and Host names are
 * admitted, that a `*` stands for one name part so a lookalike name does not pass, and which POSTs
 * count as coming from a browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { Access } from '../../lib/ollama/access';
import { listenSettings } from '../../nodes/ax650-api';

const access = new Access({ origins: ['https://chat.example.com', 'http://192.168.1.*:8080'], hosts: ['*.lan', 'robot.example.com'] }, '127.0.0.1');
const request = (headers: Record<string, string>, method = 'POST'): IncomingMessage => ({ method, headers } as unknown as IncomingMessage);
const statusOf = (headers: Record<string, string>): number => {
  try {
    access.admit(request(headers));
    return 200;
  } catch (e) {
    return (e as { status: number }).status;
  }
};

test('origins: this machine on any port, app schemes and the listed ones; a * is one name part, never a lookalike', () => {
  for (const o of ['http://localhost', 'http://localhost:1880', 'https://127.0.0.1:8443', 'http://[::1]:3000', 'app://obsidian.md', 'https://chat.example.com', 'http://192.168.1.20:8080', `http://${hostname()}.local:1880`]) {
    assert.equal(access.originAllowed(o), true, o);
  }
  for (const o of ['null', 'https://evil.example', 'http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'https://chat.example.com.evil.example', 'http://192.168.1.evil.example:8080', 'http://192.168.1.20:8081', `http://${hostname()}.evil.example`]) {
    assert.equal(access.originAllowed(o), false, o);
  }
});

test('Host names: IP addresses, localhost, the machine name and the listed ones; everything else is refused', () => {
  for (const h of ['127.0.0.1:11434', '10.0.0.7:11434', '[::1]:11434', 'localhost:11434', 'printer.localhost', `${hostname()}:11434`, `${hostname()}.local`, 'robot.lan:11434', 'robot.example.com', undefined]) {
    assert.equal(access.hostAllowed(h), true, String(h));
  }
  for (const h of ['attacker.example:11434', 'a.b.lan', 'robot.example.com.attacker.example', 'localhost.attacker.example']) {
    assert.equal(access.hostAllowed(h), false, h);
  }
});

test('a POST from a browser (Origin or Sec-Fetch-Site) must be JSON; a script\'s form-typed POST is not a browser\'s', () => {
  const host = { host: '127.0.0.1:11434' };
  assert.equal(statusOf({ ...host, origin: 'https://chat.example.com', 'content-type': 'text/plain;charset=UTF-8' }), 415);
  assert.equal(statusOf({ ...host, 'sec-fetch-site': 'cross-site', 'content-type': 'multipart/form-data; boundary=x' }), 415);
  assert.equal(statusOf({ ...host, origin: 'https://chat.example.com', 'content-type': 'application/json; charset=utf-8' }), 200);
  assert.equal(statusOf({ ...host, origin: 'https://chat.example.com', 'content-type': 'application/vnd.api+json' }), 200);
  assert.equal(statusOf({ ...host, 'content-type': 'application/x-www-form-urlencoded' }), 200, 'curl -d');
  assert.equal(statusOf({ ...host, 'sec-fetch-mode': 'cors', 'content-type': 'text/plain;charset=UTF-8' }), 200, "Node's fetch");
  assert.equal(statusOf({ host: 'attacker.example', origin: 'http://localhost:1880', 'content-type': 'application/json' }), 403, 'the Host is checked first');
  assert.deepEqual(access.admit(request({ ...host, origin: 'https://chat.example.com' }, 'GET')), { 'Access-Control-Allow-Origin': 'https://chat.example.com', Vary: 'Origin' });
});

test('the node refuses allowed origins and hosts it could never match, naming the entry', () => {
  assert.deepEqual(listenSettings({ id: 'a', type: 'ax650-api', runtime: 'rt', origins: ' https://chat.example.com,  http://192.168.1.*:8080 ', hosts: 'robot.lan *.lan' }).access, {
    origins: ['https://chat.example.com', 'http://192.168.1.*:8080'],
    hosts: ['robot.lan', '*.lan'],
  });
  assert.throws(() => listenSettings({ id: 'a', type: 'ax650-api', runtime: 'rt', origins: 'chat.example.com' }), /allowed origin "chat\.example\.com" must look like/);
  assert.throws(() => listenSettings({ id: 'a', type: 'ax650-api', runtime: 'rt', origins: 'https://chat.example.com/app' }), /no path/);
  assert.throws(() => listenSettings({ id: 'a', type: 'ax650-api', runtime: 'rt', hosts: 'http://robot.lan:80' }), /allowed host "http:\/\/robot\.lan:80" must be a host name/);
});

test('the request limit is whole MiB from 1 to 64, 16 when empty', () => {
  const limit = (bodyLimit?: string | number) => listenSettings({ id: 'a', type: 'ax650-api', runtime: 'rt', ...(bodyLimit === undefined ? {} : { bodyLimit }) }).bodyLimit;
  assert.equal(limit(), 16 * 1024 * 1024);
  assert.equal(limit(''), 16 * 1024 * 1024);
  assert.equal(limit('4'), 4 * 1024 * 1024);
  for (const bad of ['0', '65', '1.5', 'lots']) assert.throws(() => limit(bad), /request limit must be a whole number of MiB from 1 to 64/);
});
