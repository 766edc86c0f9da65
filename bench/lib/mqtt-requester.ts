/**
 * A robot's side of the MQTT bridge, reduced to what the bench needs: publish a prompt with an id
 * and a replyTo, and hand every reply (delta or terminal) to a callback with its arrival time.
 */
import { performance } from 'node:perf_hooks';
import { connectAsync, type MqttClient } from 'mqtt';

export interface ReplyEvent {
  t: number;
  id: string;
  /** Present on deltas. */
  index?: number;
  delta?: string;
  /** Present on the terminal message. */
  done?: boolean;
  text?: string;
  error?: unknown;
}

function toEvent(t: number, payload: Buffer): ReplyEvent | null {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (typeof b['id'] !== 'string') return null;
  const e: ReplyEvent = { t, id: b['id'] };
  if (typeof b['index'] === 'number') e.index = b['index'];
  if (typeof b['delta'] === 'string') e.delta = b['delta'];
  if (b['done'] === true) e.done = true;
  if (typeof b['text'] === 'string') e.text = b['text'];
  if (b['error'] !== undefined) e.error = b['error'];
  return e;
}

export class MqttRequester {
  private constructor(
    private readonly client: MqttClient,
    readonly replyTopic: string,
  ) {}

  static async connect(url: string, replyTopic: string, onReply: (e: ReplyEvent) => void): Promise<MqttRequester> {
    const client = await connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    client.on('message', (_topic, payload) => {
      const e = toEvent(performance.now(), payload);
      if (e) onReply(e);
    });
    await client.subscribeAsync(replyTopic, { qos: 1 });
    return new MqttRequester(client, replyTopic);
  }

  /** Resolves when the broker has acknowledged the prompt (QoS 1); returns when it was handed over. */
  async ask(topic: string, id: string, prompt: string): Promise<number> {
    const t = performance.now();
    await this.client.publishAsync(topic, JSON.stringify({ id, prompt, replyTo: this.replyTopic }), { qos: 1 });
    return t;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
