/**
 * ax650-api: the Ollama/OpenAI-compatible HTTP listener of one ax650-runtime, as a node of its
 * own so that "off" is simply no node, and its lifetime (listen on deploy, close on redeploy) and
 * status are a node's. Its jobs join the flows' queue under the owner `http:<node id>`.
 * A thin adapter: the protocol lives in lib/ollama, the work in lib/runtime.
 */
import { StatusThrottle } from '../lib/generate/status';
import { parseList, type AccessPolicy } from '../lib/ollama/access';
import { DEFAULT_BODY_LIMIT, startApiServer, type ApiServer } from '../lib/ollama/server';
import type { RuntimeInfo } from '../lib/runtime/types';
import { getRuntimeNode, runtimeStatus } from './shared/runtime-node';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './red-types';

interface ApiDef extends NodeDef {
  runtime: string;
  host?: string;
  port?: string | number;
  modelName?: string;
  /** Extra web page origins allowed to call the API (OLLAMA_ORIGINS style). */
  origins?: string;
  /** Extra Host names the API answers to (DNS rebinding guard). */
  hosts?: string;
  /** Largest request body in MiB (images count, as base64); empty: 16. */
  bodyLimit?: string | number;
}

export interface ListenSettings {
  host: string;
  port: number;
  modelName: string | undefined;
  access: AccessPolicy;
  /** Bytes. */
  bodyLimit: number;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 11434;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;
const ORIGIN_PATTERN = /^(\*|[a-z][a-z0-9+.-]*:\/\/[^\s/]+)$/i;
const HOST_PATTERN = /^[a-z0-9*][a-z0-9*.-]*$/i;
const MIB = 1024 * 1024;
/** Above this a body is not even drained before the 413 (lib/ollama/http-io.ts). */
const MAX_BODY_LIMIT_MIB = 64;

/** The editor's strings as the listener needs them; a bad port is refused rather than silently replaced. */
export function listenSettings(def: ApiDef): ListenSettings {
  const host = typeof def.host === 'string' && def.host.trim() !== '' ? def.host.trim() : DEFAULT_HOST;
  const raw = def.port === undefined || def.port === '' ? DEFAULT_PORT : Number(def.port);
  if (!Number.isInteger(raw) || raw < 0 || raw > 65535) throw new Error(`port must be a whole number from 0 to 65535, got ${JSON.stringify(def.port)}`);
  const name = typeof def.modelName === 'string' && def.modelName.trim() !== '' ? def.modelName.trim() : undefined;
  const origins = parseList(def.origins);
  const badOrigin = origins.find((o) => !ORIGIN_PATTERN.test(o));
  if (badOrigin !== undefined) throw new Error(`allowed origin ${JSON.stringify(badOrigin)} must look like https://chat.example.com or http://192.168.1.*:8080 (scheme, host, optional port, no path), or be *`);
  const hosts = parseList(def.hosts);
  const badHost = hosts.find((h) => !HOST_PATTERN.test(h));
  if (badHost !== undefined) throw new Error(`allowed host ${JSON.stringify(badHost)} must be a host name such as robot.example.com or *.lan (no scheme, no port), or be *`);
  const limit = def.bodyLimit === undefined || def.bodyLimit === '' ? DEFAULT_BODY_LIMIT / MIB : Number(def.bodyLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BODY_LIMIT_MIB) throw new Error(`the request limit must be a whole number of MiB from 1 to ${MAX_BODY_LIMIT_MIB}, got ${JSON.stringify(def.bodyLimit)}`);
  return { host, port: raw, modelName: name, access: { origins, hosts }, bodyLimit: limit * MIB };
}

function errnoOf(e: unknown): string {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
}

export default function register(RED: NodeAPI): void {
  function Ax650ApiNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = def as ApiDef;
    const runtimeNode = getRuntimeNode(RED, cfg.runtime);
    if (!runtimeNode) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-api.status.no-runtime') });
      node.error(RED._('ax650-api.errors.no-runtime'));
      return;
    }
    let settings: ListenSettings;
    try {
      settings = listenSettings(cfg);
    } catch (e) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-api.status.bad-config') });
      node.error(e instanceof Error ? e.message : String(e));
      return;
    }
    const runtime = runtimeNode.runtime;
    runtimeNode.register(node);
    const owner = `http:${node.id}`;
    const status = new StatusThrottle<NodeStatus>((s) => node.status(s), 500);
    let server: ApiServer | null = null;
    let closing = false;

    const show = (_s: unknown, info: RuntimeInfo): void => {
      if (!server) return;
      const rt = runtimeStatus(RED, info, runtime.cfg.simulator);
      const address = server.url.replace(/^http:\/\//, '');
      status.set({ fill: rt.fill, shape: rt.shape, text: RED._('ax650-api.status.listening', { address, state: rt.text ?? info.state }) }, info.state === 'failed');
    };
    runtime.on('state', show);

    node.status({ fill: 'grey', shape: 'ring', text: RED._('ax650-api.status.starting') });
    const token = node.credentials?.token;
    const starting = startApiServer({
      runner: runtime,
      host: settings.host,
      port: settings.port,
      owner,
      // The runtime's own name is only final after its preflight, which may run after this node starts.
      modelName: settings.modelName ?? (() => runtime.info().modelName),
      access: settings.access,
      bodyLimit: settings.bodyLimit,
      ...(token ? { token } : {}),
    }).then(
      async (s) => {
        if (closing) return s.close();
        server = s;
        node.log(RED._('ax650-api.log.listening', { url: s.url }));
        if (!token && !LOOPBACK.test(settings.host)) node.warn(RED._('ax650-api.log.open', { host: settings.host }));
        show(runtime.state, runtime.info());
      },
      (e: unknown) => {
        const code = errnoOf(e);
        const address = `${settings.host}:${settings.port}`;
        const key = code === 'EADDRINUSE' ? 'in-use' : code === 'EACCES' ? 'denied' : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' ? 'no-address' : 'listen';
        node.status({ fill: 'red', shape: 'ring', text: RED._(`ax650-api.status.${key}`, { address }) });
        node.error(RED._(`ax650-api.errors.${key}`, { address, message: e instanceof Error ? e.message : String(e) }));
      },
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      status.clear();
      runtime.off('state', show);
      // server.close() aborts each open request's job and waits up to 2 s for it to settle, well inside the 15 s budget.
      void starting
        .then(() => server?.close())
        .catch((e: unknown) => node.error(e instanceof Error ? e : String(e)))
        .finally(() => {
          server = null;
          runtime.cancelOwner(owner);
          runtimeNode.deregister(node, done);
        });
    });
  }
  RED.nodes.registerType('ax650-api', Ax650ApiNode, { credentials: { token: { type: 'password' } } });
}
