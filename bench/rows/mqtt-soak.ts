/**
 * MQTT soak: 1,000 prompts through the bridge on a fast simulator, at most WINDOW of them in flight
 * (below the queue limit, so none is refused). Every prompt must get exactly one terminal reply,
 * and its deltas must arrive once each, in index order, spelling the final text. Resident memory
 * of this process (broker, bridge, runtime, tokenizer) after a warm-up is compared with the end.
 */
import { startMqttBridge } from '../../lib/mqtt/bridge';
import { startAedes } from '../../test/mqtt/brokers';
import { MqttRequester, type ReplyEvent } from '../lib/mqtt-requester';
import type { BenchRow } from '../lib/row';
import { startSimRuntime } from '../lib/sim-runtime';
import { round } from '../lib/stats';

/** A leak check measures what is still referenced: collect garbage first when the bench may (npm run bench passes --expose-gc). */
const gcNow = (globalThis as { gc?: () => void }).gc;
function settledRss(): number {
  gcNow?.();
  return process.memoryUsage().rss;
}

const PROMPTS = 1000;
const WINDOW = 16;
const WARM_UP = 100;
const STALL_MS = 30_000;
const SIM = { AX650_SIM_TOKENS_PER_SEC: '2000', AX650_SIM_PREFILL_MS_PER_TOKEN: '0.05', AX650_SIM_REPLY_TOKENS: '12' };

interface Track {
  deltas: Array<{ index: number; text: string }>;
  terminals: ReplyEvent[];
}

const mib = (bytes: number) => bytes / (1024 * 1024);

export async function mqttSoakRows(): Promise<BenchRow[]> {
  const tracks = new Map<string, Track>();
  let finished = 0;
  let rssWarm = 0;
  let stalled = '';
  let wake: () => void = () => undefined;
  const broker = await startAedes();
  const t0 = Date.now();
  try {
    const sim = await startSimRuntime(SIM);
    try {
      const bridge = await startMqttBridge({ runner: sim.runtime, url: broker.url, promptTopic: 'soak/prompt', protocolVersion: 4, clientId: 'soak-bridge' });
      try {
        const requester = await MqttRequester.connect(broker.url, 'soak/reply', (e) => {
          const track = tracks.get(e.id);
          if (!track) return;
          if (e.done) {
            track.terminals.push(e);
            if (track.terminals.length === 1) finished++;
            if (finished === WARM_UP) rssWarm = settledRss();
            wake();
          } else if (e.index !== undefined && e.delta !== undefined) {
            track.deltas.push({ index: e.index, text: e.delta });
          }
        });
        try {
          const progress = (): Promise<void> =>
            new Promise((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`no reply for ${STALL_MS} ms after ${finished} of ${PROMPTS}`)), STALL_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          for (let i = 0; i < PROMPTS; i++) {
            while (tracks.size - finished >= WINDOW) await progress();
            const id = `s${i}`;
            tracks.set(id, { deltas: [], terminals: [] });
            await requester.ask('soak/prompt', id, `Soak ${i}: status?`);
          }
          try {
            while (finished < PROMPTS) await progress();
          } catch (e) {
            stalled = e instanceof Error ? e.message : String(e);
          }
        } finally {
          await requester.close();
        }
      } finally {
        await bridge.close();
      }
    } finally {
      await sim.stop();
    }
  } finally {
    await broker.close();
  }
  const rssEnd = settledRss();
  const seconds = (Date.now() - t0) / 1000;
  let lost = 0;
  let duplicated = 0;
  let broken = 0;
  let firstProblem = '';
  for (const [id, t] of tracks) {
    if (t.terminals.length === 0) lost++;
    if (t.terminals.length > 1) duplicated++;
    const indexes = t.deltas.map((d) => d.index);
    if (new Set(indexes).size !== indexes.length) duplicated++;
    const ordered = indexes.every((ix, i) => ix === i);
    const terminal = t.terminals[0];
    const text = t.deltas.map((d) => d.text).join('');
    if (terminal && (!ordered || terminal.error !== undefined || terminal.text !== text)) {
      broken++;
      firstProblem ||= `${id}: indexes ${indexes.join(',')}, error ${JSON.stringify(terminal.error)}, final ${JSON.stringify(terminal.text)} vs deltas ${JSON.stringify(text)}`;
    }
  }
  const growth = rssWarm > 0 ? ((rssEnd - rssWarm) / rssWarm) * 100 : NaN;
  const setup = `${PROMPTS} prompts over MQTT 3.1.1 (aedes in-process, QoS 1), at most ${WINDOW} in flight, sim 2,000 tok/s with 12-token replies; ${round(seconds, 1)} s`;
  return [
    {
      name: 'MQTT soak: prompts lost / duplicated',
      value: lost + duplicated,
      unit: `(${lost} lost, ${duplicated} duplicated, ${broken} wrong)`,
      target: '0 lost, 0 duplicated',
      pass: lost === 0 && duplicated === 0 && broken === 0,
      how: `${setup}; lost = no terminal reply; duplicated = more than one terminal or a delta index twice; wrong = deltas out of index order, an error reply, or deltas not spelling the final text${firstProblem ? `; first: ${firstProblem}` : ''}${stalled ? `; stalled: ${stalled}` : ''}`,
    },
    {
      name: 'MQTT soak: resident memory growth',
      value: round(growth, 1),
      unit: '%',
      target: '≤ 10',
      pass: growth <= 10,
      how: `${setup}; RSS of the bench process (broker, bridge, runtime, built-in tokenizer) after ${WARM_UP} replies ${round(mib(rssWarm), 0)} MiB vs after the last ${round(mib(rssEnd), 0)} MiB, ${gcNow ? 'each after a forced full GC (node --expose-gc)' : 'no forced GC (run node with --expose-gc for a leak-only figure)'}`,
    },
  ];
}
