/**
 * ax650-generate: prompt in; output 1 streams the reply (one msg per delta, join-compatible
 * `parts`), output 2 carries the whole reply with stats. Errors go to done(err) so Catch nodes
 * see them. A thin adapter: parsing lives in lib/generate, the work in lib/runtime.
 */
import { Ax650Error, isAx650Error, toAx650Error } from '../lib/errors';
import { parseGenerateMessage, type GenerateDefaults } from '../lib/generate/input';
import { StatusThrottle } from '../lib/generate/status';
import type { JobHandle, JobRequest, JobResult, RuntimeInfo } from '../lib/runtime/types';
import { prepareForRuntime } from '../lib/vision/for-runtime';
import { actionsOf, runActions, type ActionsRequest } from './generate-actions';
import { nodeError } from './shared/i18n';
import { getRuntimeNode, runtimeStatus } from './shared/runtime-node';
import type { DoneFn, MessageParts, Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from './red-types';

interface GenerateDef extends NodeDef {
  runtime: string;
  system?: string;
  temperature?: string | number;
  topK?: string | number;
  topP?: string | number;
  repetitionPenalty?: string | number;
  maxTokens?: string | number;
  think?: boolean;
  firstTokenTimeout?: string | number;
  idleTimeout?: string | number;
  totalTimeout?: string | number;
  /** Tool nodes of this toolbox are offered to the model ('' = none). */
  toolbox?: string;
  maxRounds?: string | number;
  toolTimeout?: string | number;
  /** '' (free text), 'json' or 'schema' (the JSON Schema in `schema`). */
  format?: string;
  schema?: string;
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function secondsToMs(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined || n <= 0 ? undefined : n * 1000;
}

export function defaultsFrom(def: GenerateDef): GenerateDefaults {
  const sampling: GenerateDefaults['sampling'] = {};
  const t = num(def.temperature);
  const k = num(def.topK);
  const p = num(def.topP);
  const r = num(def.repetitionPenalty);
  if (t !== undefined) sampling.temperature = t;
  if (k !== undefined) sampling.topK = k;
  if (p !== undefined) sampling.topP = p;
  if (r !== undefined) sampling.repetitionPenalty = r;
  const d: GenerateDefaults = { sampling, think: def.think === true, timeouts: {} };
  if (def.system) d.system = def.system;
  const max = num(def.maxTokens);
  if (max !== undefined && max > 0) d.maxTokens = max;
  const ft = secondsToMs(def.firstTokenTimeout);
  const it = secondsToMs(def.idleTimeout);
  const tt = secondsToMs(def.totalTimeout);
  if (ft !== undefined) d.timeouts.firstTokenMs = ft;
  if (it !== undefined) d.timeouts.idleMs = it;
  if (tt !== undefined) d.timeouts.totalMs = tt;
  return d;
}

/** The core split node's convention: this stream's parts, with any existing parts pushed down. */
function partsFor(streamId: string, index: number, outer: MessageParts | undefined, count?: number): MessageParts {
  const parts: MessageParts = { id: streamId, type: 'string', ch: '', index };
  if (count !== undefined) parts.count = count;
  if (outer) parts.parts = outer;
  return parts;
}

function withoutImages(msg: NodeMessage): NodeMessage {
  // A frame given as the payload (file in → generate) is replaced by each piece's text anyway.
  const payloadFrame = msg.payload instanceof Uint8Array;
  if (msg.image === undefined && msg.images === undefined && !payloadFrame) return msg;
  const { image: _image, images: _images, ...rest } = msg;
  return (payloadFrame ? { ...rest, payload: '' } : rest) as NodeMessage;
}

export default function register(RED: NodeAPI): void {
  function Ax650GenerateNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = def as GenerateDef;
    const defaults = defaultsFrom(cfg);
    const runtimeNode = getRuntimeNode(RED, cfg.runtime);
    const jobs = new Set<JobHandle>();
    let closing = false;
    let lastRate: number | null = null;
    const status = new StatusThrottle<NodeStatus>((s) => node.status(s), 500);
    // Messages with images are prepared (decoded, scaled) before they are queued; later ones wait their turn.
    let preparing: Promise<void> = Promise.resolve();
    let inPreparation = 0;
    /** msg.stop count: a stop while a message's images are prepared cancels that message too. */
    let stops = 0;

    if (!runtimeNode) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-generate.status.no-runtime') });
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(new Error(RED._('ax650-generate.errors.no-runtime'))));
      return;
    }
    const runtime = runtimeNode.runtime;
    runtimeNode.register(node);
    const toolSettings = { toolbox: cfg.toolbox ?? '', maxRounds: num(cfg.maxRounds) ?? 4, toolTimeoutMs: secondsToMs(cfg.toolTimeout) ?? 30_000 };
    let nodeFormat: unknown;
    try {
      nodeFormat = cfg.format === 'json' ? 'json' : cfg.format === 'schema' && cfg.schema ? JSON.parse(cfg.schema) : undefined;
    } catch {
      node.error(RED._('ax650-generate.errors.schema-json'));
    }

    const showRuntime = (_s: unknown, info: RuntimeInfo) => {
      if (jobs.size === 0) status.set(runtimeStatus(RED, info, runtime.cfg.simulator), info.state === 'failed');
    };
    runtime.on('state', showRuntime);
    showRuntime(runtime.state, runtime.info());

    const fail = (err: Ax650Error, done: DoneFn) => {
      status.set({ fill: 'red', shape: 'ring', text: RED._('ax650-generate.status.error', { code: err.code }) }, true);
      done(nodeError(RED, err));
    };

    node.on('input', async (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let cmd;
      try {
        cmd = parseGenerateMessage(msg, defaults, node.id);
      } catch (e) {
        fail(toAx650Error(e, 'BAD_INPUT'), done);
        return;
      }
      if (cmd.kind === 'stop') {
        stops++;
        runtime.cancelOwner(node.id);
        done();
        return;
      }
      if (cmd.kind === 'reset') {
        if (cmd.conversation) runtime.forgetConversation(cmd.conversation);
        done();
        return;
      }
      if (cmd.images.length > 0 || inPreparation > 0) {
        const images = cmd.images;
        const ready = preparing.then(async () => (images.length > 0 ? prepareForRuntime(runtime.info(), images) : []));
        preparing = ready.then(() => undefined, () => undefined);
        inPreparation++;
        const stopsBefore = stops;
        try {
          const prepared = await ready;
          if (prepared.length > 0) cmd.request.images = prepared;
        } catch (e) {
          fail(toAx650Error(e, 'BAD_INPUT'), done);
          return;
        } finally {
          inPreparation--;
        }
        if (closing) return done();
        if (stops !== stopsBefore) {
          fail(new Ax650Error('ABORTED', 'The prompt was cancelled (msg.stop) while its image was being prepared; it was not run.'), done);
          return;
        }
      }
      // The stream's messages do not carry the image(s): cloning a camera frame per token costs; output 2 has them.
      const streamMsg = withoutImages(msg);
      let actions;
      try {
        actions = actionsOf(msg as { format?: unknown; tools?: unknown; _client?: unknown }, toolSettings, nodeFormat, (key, params) => RED._(key, params));
      } catch (e) {
        fail(toAx650Error(e, 'BAD_INPUT'), done);
        return;
      }
      if (actions) {
        runActionsFor(msg, streamMsg, cmd.request, actions, send, done);
        return;
      }
      let job: JobHandle;
      try {
        job = runtime.submit(cmd.request);
      } catch (e) {
        fail(toAx650Error(e, 'BAD_INPUT'), done);
        return;
      }
      jobs.add(job);
      const streamId = RED.util.generateId();
      const outer = msg.parts;
      let sent = 0;
      const endStream = () => {
        const last = RED.util.cloneMessage(streamMsg);
        last.payload = '';
        last.parts = partsFor(streamId, sent, outer, sent + 1);
        last.complete = true;
        return last;
      };
      job.on('queued', (position) => {
        if (position > 1) status.set({ fill: 'yellow', shape: 'ring', text: RED._('ax650-generate.status.queued', { n: position - 1 }) });
      });
      let firstAt = 0;
      let tokens = 0;
      job.on('started', () => {
        status.set({ fill: 'blue', shape: 'dot', text: RED._('ax650-generate.status.generating') });
      });
      job.on('delta', (text, index) => {
        if (closing) return;
        const m = RED.util.cloneMessage(streamMsg);
        m.payload = text;
        m.parts = partsFor(streamId, index, outer);
        sent = index + 1;
        send([m, null]);
        tokens += runtime.countTokens(text) ?? 0;
        if (firstAt === 0) firstAt = Date.now();
        else if (tokens > 1) {
          const rate = (tokens - 1) / ((Date.now() - firstAt) / 1000);
          status.set({ fill: 'blue', shape: 'dot', text: RED._('ax650-generate.status.rate', { rate: rate.toFixed(1) }) });
        }
      });
      job.on('done', (result: JobResult) => {
        jobs.delete(job);
        if (closing) return done();
        lastRate = result.stats.tokensPerSecond;
        const full = RED.util.cloneMessage(msg);
        full.payload = result.text;
        full.stats = result.stats;
        send([endStream(), full]);
        status.set({ fill: 'green', shape: 'dot', text: lastRate === null ? RED._('ax650-generate.status.done') : RED._('ax650-generate.status.done-rate', { rate: lastRate.toFixed(1) }) }, true);
        done();
      });
      job.on('error', (err) => {
        jobs.delete(job);
        if (closing) return done();
        // Close the stream a join node is assembling, then report; nothing is sent after the error.
        if (sent > 0) send([endStream(), null]);
        fail(isAx650Error(err) ? err : toAx650Error(err), done);
      });
    });

    /** msg.format / msg.tools: lib/actions runs the turns (each one a job in the same queue). */
    const runActionsFor = (msg: NodeMessage, streamMsg: NodeMessage, request: JobRequest, actions: ActionsRequest, send: SendFn, done: DoneFn) => {
      const streamId = RED.util.generateId();
      let index = 0;
      status.set({ fill: 'blue', shape: 'dot', text: RED._('ax650-generate.status.generating') });
      const piece = (text: string, complete: boolean) => {
        const m = RED.util.cloneMessage(streamMsg);
        m.payload = text;
        m.parts = partsFor(streamId, index, msg.parts, complete ? index + 1 : undefined);
        if (complete) m.complete = true;
        index++;
        return m;
      };
      const onText = (text: string) => {
        if (!closing) send([piece(text, false), null]);
      };
      runActions(runtime, request, actions, onText, runtime.conversations).then(
        (out) => {
          if (closing) return done();
          const full = RED.util.cloneMessage(msg) as NodeMessage & Record<string, unknown>;
          full.payload = out.payload;
          full.stats = out.stats;
          if (out.kind === 'calls') full.toolCalls = out.toolCalls;
          if (out.kind !== 'value') full.messages = out.messages;
          send([piece('', true), full]);
          status.set({ fill: 'green', shape: 'dot', text: RED._('ax650-generate.status.done') }, true);
          done();
        },
        (err: unknown) => {
          if (closing) return done();
          if (index > 0) send([piece('', true), null]);
          fail(toAx650Error(err), done);
        },
      );
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      status.clear();
      runtime.off('state', showRuntime);
      runtime.cancelOwner(node.id);
      const pending = [...jobs].map((j) => j.result.catch(() => undefined));
      // A running job stops within a second; never hold Node-RED's 15 s close budget hostage.
      const cap = new Promise((r) => setTimeout(r, 5000).unref());
      void Promise.race([Promise.all(pending), cap]).finally(() => runtimeNode.deregister(node, done));
    });
  }
  RED.nodes.registerType('ax650-generate', Ax650GenerateNode);
}
