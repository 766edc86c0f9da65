/** A requester as a robot or dashboard would be: an MQTT.js client that publishes prompts and collects replies. */
import { Signal } from './signal';
import { connectAsync, type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';

export interface Reply {
  topic: string;
  body: Record<string, unknown>;
  /** Correlation Data as hex (MQTT 5 only). */
  correlation?: string;
  userProperties?: Record<string, string | string[]>;
}

export function isTerminal(r: Reply): boolean {
  return r.body.done === true;
}

export class Requester {
  readonly replies: Reply[] = [];
  private readonly signal = new Signal();

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString());
      } catch {
        body = { raw: payload.toString() };
      }
      const reply: Reply = { topic, body: body as Record<string, unknown> };
      const corr = packet.properties?.correlationData;
      if (corr) reply.correlation = corr.toString('hex');
      if (packet.properties?.userProperties) reply.userProperties = packet.properties.userProperties;
      this.replies.push(reply);
      this.signal.notify();
    });
  }

  static async connect(url: string, opts: IClientOptions = {}): Promise<Requester> {
    const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100, ...opts });
    return new Requester(client);
  }

  async subscribe(topic: string, qos: 0 | 1 | 2 = 1): Promise<void> {
    const granted = await this.client.subscribeAsync(topic, { qos });
    if (!granted[0] || granted[0].qos >= 128) throw new Error(`subscription to ${topic} refused`);
  }

  async publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions = { qos: 1 }): Promise<void> {
    await this.client.publishAsync(topic, payload, opts);
  }

  /** Resolves once the predicate holds over the replies so far; re-checked on every message. */
  waitFor(pred: (replies: Reply[]) => boolean, timeoutMs = 10_000, what = 'replies'): Promise<void> {
    return this.signal.until(() => pred(this.replies), timeoutMs, () =>
      `${what}; got ${JSON.stringify(this.replies.map((r) => r.body)).slice(0, 2000)}`);
  }

  forId(id: string): Reply[] {
    return this.replies.filter((r) => r.body.id === id);
  }

  forCorrelation(hex: string): Reply[] {
    return this.replies.filter((r) => r.correlation === hex);
  }

  /** Waits for the terminal reply of a request id and returns it. */
  async terminalOf(id: string, timeoutMs = 10_000): Promise<Reply> {
    await this.waitFor((rs) => rs.some((r) => r.body.id === id && isTerminal(r)), timeoutMs, `the end of ${id}`);
    return this.forId(id).find(isTerminal) as Reply;
  }

  async close(): Promise<void> {
    // Forced; bounded so a client stuck in a reconnect cannot hold a test file's teardown.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.endAsync(true), new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }
}
