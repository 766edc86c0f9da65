/**
 * Images through the Runtime (issue 16 items 1, 2, 5, 6): on the axllm simulator with a VL folder a
 * JPEG and a PNG are described (the reply depends on the image), two images go in one prompt, a
 * 1280×720 frame reaches the runtime at 448×252 (the simulator's log says what sizes it got), a
 * conversation keeps its images; a text-only model and the 2025 runtime give VISION_UNSUPPORTED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { prepareForRuntime } from '../../lib/vision/for-runtime';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';
import { BLUE, cameraFrame, GREEN, RED, solid } from './images';

after(stopAll);

type Entry = Record<string, unknown>;
type Img = { format: string; width: number | null; height: number | null; mean?: number[] };
const chats = (log: Entry[]): Entry[] => log.filter((e) => e['event'] === 'chat');
const imagesOf = (e: Entry | undefined): Img[] => (e?.['images'] as Img[] | undefined) ?? [];

function code(c: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.equal((e as { code?: string }).code, c);
    return true;
  };
}

describe('vision on the axllm runtime with a VL model', () => {
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm', vision: true, simEnv: { AX650_SIM_TOKENS_PER_SEC: '400' } });
  });
  after(() => sim.stop());

  const prepare = (...inputs: unknown[]) => prepareForRuntime(sim.rt.info(), inputs.map((input, i) => ({ input, field: `msg.images[${i}]` })));

  test('health info says the model has vision and its input size', () => {
    const info = sim.rt.info();
    assert.equal(info.vision, true);
    assert.deepEqual(info.visionInput, { width: 448, height: 448 });
  });

  test('a JPEG and a PNG Buffer are described, and the replies tell them apart', async () => {
    const jpeg = await solid(320, 240, BLUE, 'jpeg');
    const png = await solid(200, 100, RED, 'png');
    const a = await sim.rt.submit({ prompt: 'What do you see?', images: await prepare(jpeg) }).result;
    const b = await sim.rt.submit({ prompt: 'What do you see?', images: await prepare(png) }).result;
    assert.match(a.text, /I see a 320x240 JPEG image, mostly blue/);
    assert.match(b.text, /I see a 200x100 PNG image, mostly red/);
    const log = chats((await sim.readSimLog()) as unknown as Entry[]);
    assert.deepEqual(imagesOf(log.at(-1)).map((i) => [i.format, i.width, i.height]), [['png', 200, 100]]);
  });

  test('two images in one prompt both reach the runtime, in order', async () => {
    const r = await sim.rt.submit({ prompt: 'Compare them.', images: await prepare(await solid(64, 64, GREEN, 'png'), await solid(96, 32, BLUE, 'png')) }).result;
    assert.match(r.text, /64x64 PNG image, mostly green.*96x32 PNG image, mostly blue/s);
    const log = chats((await sim.readSimLog()) as unknown as Entry[]);
    assert.deepEqual(imagesOf(log.at(-1)).map((i) => [i.width, i.height]), [[64, 64], [96, 32]]);
  });

  test('a 1280×720 camera frame is downscaled before it is sent: the runtime gets 448×252', async () => {
    const r = await sim.rt.submit({ prompt: 'Describe the frame.', images: await prepare(await cameraFrame()) }).result;
    assert.match(r.text, /448x252 JPEG image/);
    const log = chats((await sim.readSimLog()) as unknown as Entry[]);
    assert.deepEqual(imagesOf(log.at(-1)).map((i) => [i.format, i.width, i.height]), [['jpeg', 448, 252]]);
  });

  test('a conversation sends its earlier image again with the next turn (the transcript keeps it)', async () => {
    await sim.rt.submit({ prompt: 'Remember this.', conversation: 'cam', images: await prepare(await solid(50, 50, RED, 'png')) }).result;
    await sim.rt.submit({ prompt: 'What colour was it?', conversation: 'cam' }).result;
    const log = chats((await sim.readSimLog()) as unknown as Entry[]);
    assert.deepEqual(imagesOf(log.at(-1)).map((i) => [i.width, i.height]), [[50, 50]]);
  });
});

for (const kind of ['axllm', 'main-api'] as const) describe(`vision refused on a text-only model (${kind})`, () => {
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({ kind });
  });
  after(() => sim.stop());

  test('VISION_UNSUPPORTED with a sentence, before anything reaches the runtime', async () => {
    const info = sim.rt.info();
    assert.equal(info.vision, false);
    const png = await solid(10, 10, RED, 'png');
    await assert.rejects(prepareForRuntime(info, [{ input: png, field: 'msg.image' }]), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'VISION_UNSUPPORTED');
      // The 2025 runtime takes no images at all; on axllm it is the model that has no vision.
      assert.match((e as Error).message, kind === 'main-api' ? /2025 main_api runtime, which cannot take images at all; load a vision-language model folder .* with the axllm runtime/ : /cannot see images \(it is a text-only model\)/);
      return true;
    });
    // A caller that bypasses the check: the Runtime refuses at submit.
    const image = { dataUri: `data:image/png;base64,${png.toString('base64')}`, mime: 'image/png' as const, width: 10, height: 10, bytes: png.length };
    assert.throws(() => sim.rt.submit({ prompt: 'What is it?', images: [image] }), code('VISION_UNSUPPORTED'));
    const before = chats((await sim.readSimLog()) as unknown as Entry[]).length;
    const r = await sim.rt.submit({ prompt: 'Still fine with text?' }).result;
    assert.ok(r.text.length > 0);
    assert.equal(chats((await sim.readSimLog()) as unknown as Entry[]).length, before + (kind === 'axllm' ? 1 : 0));
  });
});
