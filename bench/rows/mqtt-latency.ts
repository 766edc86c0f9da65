/**
 * MQTT first-token latency: the same runtime (a flow's ax650-runtime on the simulator) takes
 * prompts alternately from the flow and from the MQTT bridge over an in-process aedes broker; the
 * difference of the paired times to the first delta is what MQTT adds.
 */
import { startMqttBridge } from '../../lib/mqtt/bridge';
import { startAedes } from '../../test/mqtt/brokers';
import { nextIdle, startFlowBench } from '../lib/flow';
import { MqttRequester, type ReplyEvent } from '../lib/mqtt-requester';
import type { BenchRow } from '../lib/row';
import { prompts } from '../lib/sim-env';
import { median, round, spread } from '../lib/stats';

const PAIRS = 15;
const SIM = { AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_PREFILL_MS_PER_TOKEN: '0.05' };

export async function mqttLatencyRows(): Promise<BenchRow[]> {
  const broker = await startAedes();
  const firsts = new Map<string, (e: ReplyEvent) => void>();
  const flowTtft: number[] = [];
  const mqttTtft: number[] = [];
  try {
    const bench = await startFlowBench(SIM);
    try {
      const bridge = await startMqttBridge({ runner: bench.runtime, url: broker.url, promptTopic: 'bench/prompt', protocolVersion: 4, clientId: 'bench-bridge' });
      try {
        const requester = await MqttRequester.connect(broker.url, 'bench/reply', (e) => {
          if (e.delta !== undefined && e.delta !== '') firsts.get(e.id)?.(e);
        });
        try {
          let i = 0;
          for (const prompt of prompts(PAIRS, 'MQTT')) {
            let idle = nextIdle(bench.runtime);
            const flow = await bench.generate(prompt);
            flowTtft.push((flow.deltas[0]?.t ?? NaN) - flow.start);
            await idle;
            idle = nextIdle(bench.runtime);
            const id = `q${i++}`;
            const first = new Promise<ReplyEvent>((resolve) => firsts.set(id, resolve));
            const sentAt = await requester.ask('bench/prompt', id, prompt);
            mqttTtft.push((await first).t - sentAt);
            firsts.delete(id);
            await idle;
          }
        } finally {
          await requester.close();
        }
      } finally {
        await bridge.close();
      }
    } finally {
      await bench.close();
    }
  } finally {
    await broker.close();
  }
  const diffs = mqttTtft.map((m, i) => m - (flowTtft[i] ?? NaN));
  const added = median(diffs);
  return [
    {
      name: 'MQTT: prompt published → first delta, minus the same through a flow',
      value: round(added, 1),
      unit: 'ms',
      target: 'median ≤ 15',
      pass: added <= 15,
      how: `sim 200 tok/s, 0.05 ms/token prefill; one runtime, ${PAIRS} pairs alternating flow / MQTT 3.1.1 via aedes in-process (QoS 1, JSON {id,prompt,replyTo}), fresh context before each; median of per-pair differences (${spread(diffs, 1, ' ms')}); flow ${spread(flowTtft, 0, ' ms')}, MQTT ${spread(mqttTtft, 0, ' ms')}`,
    },
  ];
}
