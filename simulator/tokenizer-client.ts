/**
 * The runtime's side of the tokenizer protocol (`Tokenizer.cpp` Tokenizer_Http and `http_utils.hpp`
 * test_connect_http): connect test with 10 tries 1 s apart, get_uid/bos_id/eos_id at init, reset,
 * encode with last_reply, decode. One request per connection like an httplib::Client.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { CxxException } from './cmdline';
import { dump, JsonTypeError, type Json, isObject, getArray, getString, getNumber } from './json-compat';
import type { Logger } from './alog';

const TIMEOUT_MS = 10_000;

interface Reply {
  status: number;
  body: string;
}

/** A failed `ret.value()` on an httplib Result: std::bad_optional_access escapes and aborts. */
export class HttpUnreachable extends CxxException {
  constructor() {
    super('std::bad_optional_access', 'bad optional access');
  }
}

function request(base: URL, method: 'GET' | 'POST', pathAndQuery: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname === 'localhost' ? '127.0.0.1' : base.hostname,
        port: base.port,
        method,
        path: pathAndQuery,
        agent: false,
        timeout: TIMEOUT_MS,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => reject(new HttpUnreachable()));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => reject(new HttpUnreachable()));
    req.end(body);
  });
}

function parse(body: string): Json {
  try {
    return JSON.parse(body) as Json;
  } catch (e) {
    throw new JsonTypeError(101, `parse error: ${(e as Error).message}`);
  }
}

function field(value: Json, key: string): Json | undefined {
  return isObject(value) ? value[key] : undefined;
}

function ids(value: Json | undefined): number[] {
  return getArray(value).map((v) => Math.trunc(getNumber(v)));
}

function tcpProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class TokenizerClient {
  uid = '';
  bosId = -1;
  eosId = -1;
  private base: URL | undefined;

  constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** test_connect_http: the host must be an IPv4 literal or `localhost`, and the URL must carry a port. */
  private async connectTest(): Promise<boolean> {
    const m = /^[^:]*:\/\/([^/]*)/.exec(this.url);
    if (!m) return false;
    const hostPort = m[1] ?? '';
    const colon = hostPort.indexOf(':');
    if (colon < 0) return false;
    const portText = hostPort.slice(colon + 1);
    if (!/^\s*[+-]?\d/.test(portText)) throw new CxxException('std::invalid_argument', 'stoi');
    const port = parseInt(portText, 10);
    let host = hostPort.slice(0, colon);
    if (host === 'localhost') host = '127.0.0.1';
    const ipv4 = net.isIPv4(host);
    for (let left = 10; left-- > 0; ) {
      if (ipv4 && port > 0 && port < 65536 && (await tcpProbe(host, port))) return true;
      await sleep(1000);
      this.log.raw(`\x1b[1;30;31mconnect failed ${this.url}, try again in ${String(left).padStart(2)}/10 \n\x1b[0m`);
    }
    return false;
  }

  async init(): Promise<boolean> {
    if (!(await this.connectTest())) {
      this.log.e('Init', 27, `connect ${this.url} failed`);
      return false;
    }
    this.log.i('Init', 34, `connect ${this.url} ok`);
    this.base = new URL(this.url);
    // Unlike reset/encode/decode, Init wraps the whole exchange, `ret.value()` included, in try/catch
    // (std::exception): a dropped connection is printed to stderr and retried like a bad body.
    for (let count = 10; count-- > 0; ) {
      try {
        const rep = await request(this.base, 'GET', '/get_uid');
        if (rep.status !== 200) {
          this.log.e('Init', 47, `get uid failed, status: ${rep.status}`);
          return false;
        }
        this.uid = getString(field(parse(rep.body), 'uid'));
        this.log.i('Init', 57, `uid: ${this.uid}`);
        break;
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
      }
      await sleep(1000);
      this.log.e('Init', 66, `get uid failed, try again ${count}/10`);
    }
    const bos = await this.getId('bos_id');
    if (bos === false) return false;
    const eos = await this.getId('eos_id');
    if (eos === false) return false;
    this.bosId = bos;
    this.eosId = eos;
    this.log.raw(`bos_id: ${this.bosId}, eos_id: ${this.eosId}\n`);
    return true;
  }

  /** A non-200 answer fails the whole Init; ten failed tries leave the id unset (-1 here) and Init goes on. */
  private async getId(key: 'bos_id' | 'eos_id'): Promise<number | false> {
    for (let count = 10; count-- > 0; ) {
      try {
        const rep = await request(this.need(), 'GET', `/${key}?uid=${this.uid}`);
        if (rep.status !== 200) {
          this.log.e('Init', 75, `get ${key} failed, status: ${rep.status}`);
          return false;
        }
        return Math.trunc(getNumber(field(parse(rep.body), key)));
      } catch (e) {
        process.stderr.write(`${(e as Error).message}\n`);
      }
      await sleep(1000);
      this.log.e('Init', 84, `get ${key} failed, try again ${count}/10`);
    }
    return -1;
  }

  private need(): URL {
    if (!this.base) throw new HttpUnreachable();
    return this.base;
  }

  /** POST /reset; a `{"error"}` body makes `j_rep["token_ids"]` throw, uncaught in the runtime. */
  async reset(systemPrompt: string): Promise<number[] | undefined> {
    const body: Record<string, string> = { uid: this.uid };
    if (systemPrompt !== '') body['system_prompt'] = systemPrompt;
    const rep = await request(this.need(), 'POST', '/reset', dump(body)).catch(() => undefined);
    if (rep === undefined) throw new HttpUnreachable();
    if (rep.status !== 200) {
      this.log.e('Reset', 135, `reset failed, status: ${rep.status}`);
      return undefined;
    }
    return ids(field(parse(rep.body), 'token_ids'));
  }

  async encode(text: string, lastReply: string): Promise<{ tokenIds: number[]; diff: number[] } | undefined> {
    const body: Record<string, string | boolean> = { uid: this.uid, text, img_prompt: false };
    if (lastReply !== '') body['last_reply'] = lastReply;
    const rep = await request(this.need(), 'POST', '/encode', dump(body)).catch(() => undefined);
    if (rep === undefined) throw new HttpUnreachable();
    if (rep.status !== 200) {
      this.log.e('Encode', 156, `encode failed, status: ${rep.status}`);
      return undefined;
    }
    let j: Json;
    try {
      j = JSON.parse(rep.body) as Json;
    } catch (e) {
      this.log.e('Encode', 165, `json parse failed: ${(e as Error).message}`);
      this.log.e('Encode', 166, rep.body);
      return undefined;
    }
    return { tokenIds: ids(field(j, 'token_ids')), diff: ids(field(j, 'diff')) };
  }

  /** Two tries, 1 s apart; "" when both fail. */
  async decode(tokenIds: number[]): Promise<string> {
    for (let cnt = 2; cnt-- > 0; ) {
      const rep = await request(this.need(), 'POST', '/decode', dump({ token_ids: tokenIds, uid: this.uid })).catch(() => undefined);
      if (rep === undefined) throw new HttpUnreachable();
      if (rep.status !== 200) {
        this.log.e('Decode', 185, `decode failed, status: ${rep.status}, try again`);
        this.log.e('Decode', 186, rep.body);
        await sleep(1000);
        continue;
      }
      try {
        return getString(field(parse(rep.body), 'text'));
      } catch (e) {
        this.log.e('Decode', 195, `json parse failed: ${(e as Error).message}, try again`);
        this.log.e('Decode', 196, rep.body);
        await sleep(1000);
      }
    }
    return '';
  }
}
