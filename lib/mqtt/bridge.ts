/**
 * MQTT request/response bridge onto the one Runtime: prompts arrive on a (possibly shared)
 * subscription, each becomes a Job owned by `mqtt:<clientId>`, and its deltas and one terminal
 * message go to the requester's Response Topic with its Correlation Data (MQTT 5 §4.10), or to
 * `replyTo` / `<topic>/response` for MQTT 3.1.1 requesters.
 */
import type { IPublishPacket } from 'mqtt';
import { activeActions, runClientTurn, type ClientActions } from '../client-tools/turn';
import { Ax650Error, toAx650Error } from '../errors';
import { prepareForRuntime } from '../vision/for-runtime';
import type { JobHandle } from '../runtime/types';
import { openConnection, type Connection } from './connection';
import { DedupeMemory } from './dedupe';
import { resolveOptions, type MqttBridgeOptions, type ResolvedOptions } from './options';
import { createPresence, type Presence } from './presence';
import { ReplyStream, type PublishFn } from './reply';
import { parsePrompt, type IncomingPrompt, type ParsedPrompt, type PromptRequest } from './request';

export type { MqttBridgeOptions } from './options';
export type { BridgeStatus } from './connection';

export interface MqttBridge {
  /** Connected and subscribed. */
  readonly connected: boolean;
  /** The client id of the persistent session (jobs are owned by `mqtt:<clientId>`). */
  readonly clientId: string;
  /** Publishes `offline`, cancels this bridge's queued and running jobs (their requesters are told), disconnects. */
  close(): Promise<void>;
}

/** How long close() waits for cancelled jobs to report their end, and for queued publishes to leave. */
const CLOSE_JOBS_MS = 2000;
const CLOSE_FLUSH_MS = 3000;

function toIncoming(packet: IPublishPacket): IncomingPrompt {
  const props = packet.properties ?? {};
  const msg: IncomingPrompt = {
    topic: packet.topic,
    payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
  };
  if (props.responseTopic !== undefined) msg.responseTopic = props.responseTopic;
  if (props.correlationData !== undefined) msg.correlationData = props.correlationData;
  if (props.messageExpiryInterval !== undefined) msg.messageExpiryInterval = props.messageExpiryInterval;
  if (props.contentType !== undefined) msg.contentType = props.contentType;
  if (props.userProperties !== undefined) msg.userProperties = props.userProperties;
  return msg;
}

class Bridge implements MqttBridge {
  private readonly dedupe = new DedupeMemory();
  /** Running work: a job's handle, or the promise of a structured turn (its jobs are this bridge's owner's too). */
  private readonly jobs = new Map<JobHandle | Promise<void>, ReplyStream>();
  private readonly jobsIdle: Array<() => void> = [];
  private readonly presence: Presence | null;
  private readonly conn: Connection;
  private stopHealth: (() => void) | null = null;
  private closing: Promise<void> | null = null;

  constructor(private readonly o: ResolvedOptions) {
    this.presence = o.baseTopic === undefined
      ? null
      : createPresence({
          baseTopic: o.baseTopic,
          publish: (topic, payload, opts, cb) => this.conn.client.publish(topic, payload, opts, (err) => {
            if (err) o.onStatus('error', `publish to ${topic} failed: ${err.message}`);
            cb?.(err);
          }),
          health: o.health,
          onError: (detail) => o.onStatus('error', detail),
          ...(o.healthIntervalMs === undefined ? {} : { healthIntervalMs: o.healthIntervalMs }),
        });
    const will = this.presence?.will();
    this.conn = openConnection({
      url: o.url,
      clientId: o.clientId,
      protocolVersion: o.protocolVersion,
      sessionExpirySec: o.sessionExpirySec,
      filter: o.filter,
      qos: o.qos,
      onMessage: (packet) => this.onMessage(packet),
      onReady: () => this.onReady(),
      onStatus: o.onStatus,
      ...(will ? { will } : {}),
      ...(o.username === undefined ? {} : { username: o.username }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
    });
  }

  get connected(): boolean {
    return this.conn.ready;
  }

  get clientId(): string {
    return this.o.clientId;
  }

  whenFirstAttemptDone(): Promise<void> {
    return this.conn.firstAttempt;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private readonly publishReply: PublishFn = (topic, payload, opts) => {
    this.conn.client.publish(topic, payload, opts, (err) => {
      if (err) this.o.onStatus('error', `reply to ${topic} failed: ${err.message}`);
    });
  };

  private onReady(): void {
    this.presence?.online();
    if (this.presence && !this.stopHealth) this.stopHealth = this.presence.startHealth();
  }

  /** Returns false only while closing: the prompt stays unacknowledged and the broker keeps it. */
  private onMessage(packet: IPublishPacket): boolean {
    if (this.closing) return false;
    // A retained prompt would be replayed on every (re)subscription; only live prompts are served.
    if (packet.retain || this.presence?.owns(packet.topic)) return true;
    // This runs inside MQTT.js's packet loop, where a throw would become an uncaught exception.
    try {
      const parsed = parsePrompt(toIncoming(packet), Date.now(), this.o.replies);
      if (!parsed) return true;
      if (parsed.dedupeKey !== null && this.dedupe.checkAndRemember(parsed.dedupeKey)) return true;
      this.serve(parsed);
    } catch (e) {
      this.o.onStatus('error', `prompt on ${packet.topic} dropped: ${toAx650Error(e).message}`);
    }
    return true;
  }

  private serve(parsed: ParsedPrompt): void {
    const reply = new ReplyStream(parsed.target, this.publishReply, {
      protocolVersion: this.o.protocolVersion,
      qos: this.o.qos,
      stream: this.o.stream,
    });
    if (!parsed.ok) return reply.error(parsed.error);
    const actions = parsed.actions && activeActions(parsed.actions);
    if (parsed.images.length === 0) return this.submit(parsed.request, reply, actions);
    // Images are decoded and scaled (lib/vision) before the prompt is queued.
    prepareForRuntime(this.o.runner.info(), parsed.images).then(
      (images) => {
        if (this.closing) return reply.error(new Ax650Error('ABORTED', 'The MQTT bridge closed before this prompt was queued.'));
        this.submit({ ...parsed.request, images }, reply, actions);
      },
      (e: unknown) => reply.error(toAx650Error(e, 'BAD_INPUT')),
    );
  }

  private submit(request: PromptRequest, reply: ReplyStream, actions: ClientActions | undefined): void {
    if (actions) return this.serveStructured(request, actions, reply);
    let handle: JobHandle;
    try {
      handle = this.o.runner.submit({ ...request, owner: this.o.owner });
    } catch (e) {
      return reply.error(toAx650Error(e, 'INTERNAL'));
    }
    this.jobs.set(handle, reply);
    handle.on('delta', (text, index) => reply.delta(text, index));
    handle.on('done', (result) => {
      reply.done(result);
      this.settle(handle);
    });
    handle.on('error', (err) => {
      reply.error(err);
      this.settle(handle);
    });
  }

  /** Tools or format: validated whole (lib/client-tools), then the tool calls message and the terminal one; no deltas. */
  private serveStructured(request: PromptRequest, actions: ClientActions, reply: ReplyStream): void {
    const work = runClientTurn(this.o.runner, { ...request, owner: this.o.owner }, actions).then(
      (turn) => {
        reply.toolCalls(turn.toolCalls);
        reply.done({ ...turn.result, ...(turn.toolCalls.length > 0 ? { toolCalls: turn.toolCalls } : {}) }, turn.value);
      },
      (e: unknown) => reply.error(toAx650Error(e, 'INTERNAL')),
    ).finally(() => this.settle(work));
    this.jobs.set(work, reply);
  }

  private settle(key: JobHandle | Promise<void>): void {
    this.jobs.delete(key);
    if (this.jobs.size === 0) this.jobsIdle.splice(0).forEach((wake) => wake());
  }

  private async shutdown(): Promise<void> {
    this.stopHealth?.();
    if (this.jobs.size > 0) {
      const idle = new Promise<void>((resolve) => this.jobsIdle.push(resolve));
      this.o.runner.cancelOwner(this.o.owner);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_JOBS_MS)))]);
      clearTimeout(timer);
    }
    if (this.presence && this.conn.client.connected) this.presence.offline(() => undefined);
    await this.conn.end(CLOSE_FLUSH_MS);
  }
}

/**
 * Creates the bridge and starts connecting in the background; throws CONFIG_INVALID for bad
 * options. For callers that must be able to close at any moment (a Node-RED node whose close
 * budget is 15 s, while one connection attempt may take 10 s to time out): progress is reported
 * through `onStatus` only.
 */
export function createMqttBridge(opts: MqttBridgeOptions): MqttBridge {
  return new Bridge(resolveOptions(opts));
}

/**
 * Starts the bridge. Rejects with CONFIG_INVALID for bad options; otherwise resolves after the
 * first connection attempt (connected and subscribed, or failed and retrying in the background),
 * so an unreachable broker never leaves the caller without a handle to close.
 */
export async function startMqttBridge(opts: MqttBridgeOptions): Promise<MqttBridge> {
  const bridge = new Bridge(resolveOptions(opts));
  await bridge.whenFirstAttemptDone();
  return bridge;
}
