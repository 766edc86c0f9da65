/**
 * Issue 16's figures for a 1280×720 camera JPEG: the time the package adds (decode, scale to the
 * model's 448×448 input, re-encode: lib/vision) and a whole request with the prepared frame against
 * the same file sent unchanged to the same simulated VL model (ax650-sim serve, non-stream, short
 * replies so the image handling shows), and the memory one image costs.
 */
import { performance } from 'node:perf_hooks';
import { chatBody, post, startAxllm, type AxllmRun } from '../../test/simulator-axllm/helpers';
import { cameraFrame } from '../../test/vision/images';
import { loadSharp, prepareImage } from '../../lib/vision/prepare';
import type { BenchRow } from '../lib/row';
import { SATURATION_SIM } from '../lib/sim-env';
import { median, percentile, round, spread } from '../lib/stats';

const ROUNDS = 30;
const MEMORY_IMAGES = 60;

async function send(run: AxllmRun, dataUri: string): Promise<void> {
  const body = chatBody(run.folder.modelName, '', { max_tokens: 4 });
  body['messages'] = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUri } }, { type: 'text', text: 'What is in front of the robot?' }] }];
  const r = await post(run.baseUrl, '/v1/chat/completions', body);
  if (r.status !== 200) throw new Error(`the simulator answered ${r.status}: ${r.text.slice(0, 200)}`);
}

function rssMiB(): number {
  return process.memoryUsage().rss / 1048576;
}

export async function visionRows(): Promise<BenchRow[]> {
  const frame = await cameraFrame();
  const rawUri = `data:image/jpeg;base64,${frame.toString('base64')}`;
  const sharpVersion = (await loadSharp()).versions.sharp;
  // Warm up libvips and the simulator's first request.
  await prepareImage(frame);
  const run = await startAxllm({ dirOpts: { vision: true }, env: { ...SATURATION_SIM } });
  const prepareMs: number[] = [];
  const packagedMs: number[] = [];
  const unchangedMs: number[] = [];
  let sentBytes = 0;
  try {
    await send(run, rawUri);
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate so that drift (thermal, other load) hits both paths alike.
      let t0 = performance.now();
      await send(run, rawUri);
      unchangedMs.push(performance.now() - t0);
      t0 = performance.now();
      const p = await prepareImage(frame);
      prepareMs.push(performance.now() - t0);
      await send(run, p.dataUri);
      packagedMs.push(performance.now() - t0);
      sentBytes = p.bytes;
    }
  } finally {
    await run.stop();
  }
  // Memory: images prepared one after another must not accumulate.
  global.gc?.();
  const before = rssMiB();
  let peak = before;
  for (let i = 0; i < MEMORY_IMAGES; i++) {
    await prepareImage(frame);
    peak = Math.max(peak, rssMiB());
  }
  global.gc?.();
  const after = rssMiB();
  const ratio = median(packagedMs) / median(unchangedMs);
  return [
    {
      name: 'vision: time the package adds to a 1280×720 JPEG (decode, scale to 448, encode)',
      value: round(median(prepareMs), 1),
      unit: 'ms median',
      target: '≤ 100 ms',
      pass: median(prepareMs) <= 100,
      how: `lib/vision prepareImage (sharp ${sharpVersion}), ${ROUNDS} frames of ${Math.round(frame.length / 1024)} KB → ${Math.round(sentBytes / 1024)} KB at 448×252; p95 ${round(percentile(prepareMs, 95), 1)} ms`,
    },
    {
      name: 'vision: whole request with the prepared frame ÷ the same file sent unchanged',
      value: round(ratio, 2),
      unit: 'ratio of medians',
      target: 'reported (≤ 1.5)',
      pass: ratio <= 1.5,
      how: `ax650-sim serve with a VL folder, non-stream, 4-token replies; prepared: ${spread(packagedMs, 1, ' ms')} (prepare included), unchanged: ${spread(unchangedMs, 1, ' ms')}`,
    },
    {
      name: 'vision: memory per image (RSS growth over consecutive frames)',
      value: round(Math.max(0, after - before) / MEMORY_IMAGES, 2),
      unit: 'MiB per image',
      target: '≤ 0.5 MiB (no accumulation); peak ≤ 64 MiB above start',
      pass: Math.max(0, after - before) / MEMORY_IMAGES <= 0.5 && peak - before <= 64,
      how: `${MEMORY_IMAGES} frames prepared one after another; RSS ${round(before, 0)} → peak ${round(peak, 0)} → ${round(after, 0)} MiB (libvips' operation cache included)`,
    },
  ];
}
