/**
 * Real brokers for the bridge tests: aedes in-process (MQTT 3.1.1 only: its README lists MQTT 5
 * as "not support yet") and Debian's mosquitto 2 as a child process on a free loopback port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { waitForLine } from './lines';

export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface AedesBroker {
  url: string;
  /** `ws://…` when started with `websocket: true`. */
  wsUrl?: string;
  /** Cuts a client's TCP connection from the broker side, like a network drop (its will fires). */
  dropClient(clientId: string): boolean;
  /** While false, every SUBSCRIBE gets a failure return code (0x80), as an ACL denial does. */
  allowSubscribe(allowed: boolean): void;
  close(): Promise<void>;
}

export interface AedesOptions {
  /** Username → password; when given, other clients are refused (CONNACK 4 or 5). */
  users?: Record<string, string>;
  /** Also serve MQTT over WebSocket on another free loopback port. */
  websocket?: boolean;
  /** A fixed port (the demo's 1883); default a free one. Rejects when it is taken. */
  port?: number;
}

export async function startAedes(opts: AedesOptions = {}): Promise<AedesBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const users = opts.users;
  if (users) {
    broker.authenticate = (_client, username, password, cb) => {
      const ok = username !== undefined && Object.hasOwn(users, username) && password?.toString() === users[username];
      cb(null, ok);
    };
  }
  const sockets = new Set<Socket>();
  const byClientId = new Map<string, Socket>();
  broker.on('clientReady', (client) => byClientId.set(client.id, client.conn as unknown as Socket));
  let subscribeAllowed = true;
  broker.authorizeSubscribe = (_client, sub, cb) => cb(null, subscribeAllowed ? sub : null);
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.listen(opts.port ?? 0, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (e) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw e;
  }
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const ws = opts.websocket ? await serveWebSocket((stream) => broker.handle(stream)) : null;
  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    ...(ws ? { wsUrl: ws.url } : {}),
    dropClient(clientId) {
      const socket = byClientId.get(clientId);
      if (!socket || socket.destroyed) return false;
      socket.destroy();
      return true;
    },
    allowSubscribe(allowed) {
      subscribeAllowed = allowed;
    },
    async close() {
      await ws?.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** ws is MQTT.js's own WebSocket dependency; aedes takes the socket as a duplex stream. */
async function serveWebSocket(handle: (stream: Duplex) => void): Promise<{ url: string; close(): Promise<void> }> {
  const { WebSocketServer, createWebSocketStream } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (socket) => handle(createWebSocketStream(socket)));
  const address: unknown = wss.address();
  if (typeof address !== 'object' || address === null || !('port' in address)) throw new Error('no port');
  return {
    url: `ws://127.0.0.1:${String(address.port)}`,
    close: () => {
      for (const c of wss.clients) c.terminate();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export function mosquittoPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' });
  const path = r.stdout.trim().split('\n')[0];
  return r.status === 0 && path ? path : null;
}

export const MOSQUITTO_SKIP = mosquittoPath() === null
  ? 'mosquitto is not installed (apt-get install mosquitto mosquitto-clients); CI installs it'
  : false;

export interface Mosquitto {
  url: string;
  port: number;
  readonly pid: number;
  /** Stops (SIGTERM, which also saves the persistence file) and starts again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Every pid this broker ever had, for the leak check. */
  pids: number[];
  dir: string;
}

export interface MosquittoOptions {
  persistence?: boolean;
  /** A fixed port (the demo's 1883); default a free one. */
  port?: number;
  /** Username → password; when given, anonymous clients are refused. */
  users?: Record<string, string>;
  /** The text of an ACL file (mosquitto's `acl_file` format). */
  acl?: string;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = mosquittoPath();
  if (!bin) throw new Error(String(MOSQUITTO_SKIP));
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'ax650-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, 'log_dest stderr', 'log_type all'];
  // Started as root, mosquitto drops to the `mosquitto` user, which cannot read this 0700 folder
  // (its password and persistence files); staying root keeps the broker as it runs in CI.
  if (process.getuid?.() === 0) lines.push('user root');
  if (opts.users) {
    const passwords = join(dir, 'passwords');
    writeFileSync(passwords, '');
    for (const [user, password] of Object.entries(opts.users)) {
      const r = spawnSync('mosquitto_passwd', ['-b', passwords, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr || r.error?.message}`);
    }
    lines.push('allow_anonymous false', `password_file ${passwords}`);
  } else {
    lines.push('allow_anonymous true');
  }
  if (opts.acl !== undefined) {
    writeFileSync(join(dir, 'acl'), opts.acl);
    lines.push(`acl_file ${join(dir, 'acl')}`);
  }
  lines.push(...(opts.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']));
  writeFileSync(conf, lines.join('\n') + '\n');
  let child: ChildProcess | null = null;
  const pids: number[] = [];

  async function start(): Promise<void> {
    const c = spawn(bin as string, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    if (c.pid === undefined) throw new Error('mosquitto did not start');
    pids.push(c.pid);
    await waitForLine(c.stderr!, (l) => / running$/.test(l) || /Error/.test(l), 10_000).then((line) => {
      if (/Error/.test(line)) throw new Error(`mosquitto: ${line}`);
    });
  }

  async function stop(): Promise<void> {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    // A broker that does not end on SIGTERM within 5 s (seen once in CI, under load) must not hang the suite.
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  try {
    await start();
  } catch (e) {
    // A broker that did not start (port taken) leaves no ax650-mosq-* folder behind.
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    pids,
    dir,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}

/** Stops the broker, removes nothing it needs, and proves every process it had is gone. */
export async function stopMosquitto(m: Mosquitto): Promise<void> {
  await m.stop();
  rmSync(m.dir, { recursive: true, force: true });
  for (const pid of m.pids) if (!isGone(pid)) throw new Error(`mosquitto pid ${pid} is still alive`);
}
