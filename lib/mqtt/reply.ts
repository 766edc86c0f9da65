/**
 * One request's reply stream on its response topic: deltas `{id, index, delta}` (when streaming),
 * then exactly one terminal message, either `{id, text, stats, done: true}` or
 * `{id, error: {code, message}, done: true}`. On MQTT 5 every message echoes the Correlation Data
 * and carries the user properties `seq` (monotonic) and `done` (reliability §4.4, scheme step 2),
 * so a requester can order and end the stream without parsing the payload.
 */
import type { IClientPublishOptions } from 'mqtt';
import type { Ax650Error } from '../errors';
import type { JobResult, ToolCall } from '../runtime/types';
import type { ReplyTarget } from './request';

export type QoS = 0 | 1 | 2;

/** Hands one message to the MQTT client; the client queues it while offline (QoS > 0). */
export type PublishFn = (topic: string, payload: string, opts: IClientPublishOptions) => void;

export interface ReplyOptions {
  protocolVersion: 4 | 5;
  qos: QoS;
  /** false: deltas are dropped and only the terminal message is sent. */
  stream: boolean;
}

export interface DeltaReply {
  id: string;
  index: number;
  delta: string;
}
export interface DoneReply extends JobResult {
  id: string;
  done: true;
  /** The parsed, validated reply of a prompt with `format`. */
  value?: unknown;
}
/** The tool calls of a prompt with `tools`, validated, for the requester to run (then the terminal message follows). */
export interface ToolCallsReply {
  id: string;
  type: 'tool_calls';
  toolCalls: Array<{ id: string; name: string; arguments: Record<string, unknown> }>;
}
export interface ErrorReply {
  id: string;
  error: { code: string; message: string };
  done: true;
  /** What was generated before the failure, when anything was. */
  partial?: JobResult;
}
export type ReplyMessage = DeltaReply | ToolCallsReply | DoneReply | ErrorReply;

export class ReplyStream {
  private seq = 0;
  private ended = false;

  constructor(
    readonly target: ReplyTarget,
    private readonly publish: PublishFn,
    private readonly opts: ReplyOptions,
  ) {}

  get finished(): boolean {
    return this.ended;
  }

  delta(text: string, index: number): void {
    if (this.ended || !this.opts.stream) return;
    this.send({ id: this.target.id, index, delta: text }, false);
  }

  toolCalls(calls: readonly ToolCall[]): void {
    if (this.ended || calls.length === 0) return;
    const toolCalls = calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments ?? {} }));
    this.send({ id: this.target.id, type: 'tool_calls', toolCalls }, false);
  }

  done(result: JobResult, value?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const reply: DoneReply = { id: this.target.id, text: result.text, stats: result.stats, done: true };
    if (result.toolCalls && result.toolCalls.length > 0) reply.toolCalls = result.toolCalls;
    if (value !== undefined) reply.value = value;
    this.send(reply, true);
  }

  error(err: Ax650Error & { partial?: JobResult }): void {
    if (this.ended) return;
    this.ended = true;
    const reply: ErrorReply = { id: this.target.id, error: { code: err.code, message: err.message }, done: true };
    if (err.partial) reply.partial = err.partial;
    this.send(reply, true);
  }

  private send(message: ReplyMessage, last: boolean): void {
    const opts: IClientPublishOptions = { qos: this.opts.qos, retain: false };
    if (this.opts.protocolVersion === 5) {
      opts.properties = {
        contentType: 'application/json',
        userProperties: { seq: String(this.seq), done: String(last) },
      };
      if (this.target.correlationData) opts.properties.correlationData = this.target.correlationData;
    }
    this.seq += 1;
    this.publish(this.target.topic, JSON.stringify(message), opts);
  }
}
