/**
 * msg.image / msg.images on ax650-generate in real Node-RED (issue 16 item 1, acceptance), for the
 * runtime kind under test: on axllm with a VL folder a JPEG and a PNG Buffer are described, two
 * images go in one prompt, a 1280×720 frame reaches the runtime downscaled (the simulator's log), a
 * bad image reaches Catch with BAD_INPUT; on the 2025 runtime an image gives VISION_UNSUPPORTED.
 * The stream messages do not carry the image; output 2 does.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { TEST_KIND } from '../helpers/kind';
import { BLUE, cameraFrame, GREEN, RED, solid } from '../vision/images';
import { startHarness, streamText, type Harness } from './flow-harness';

type Img = { format: string; width: number | null; height: number | null };

async function chatImages(simLog: string): Promise<Img[][]> {
  const lines = (await readFile(simLog, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return lines.filter((e) => e['event'] === 'chat').map((e) => (e['images'] as Img[] | undefined) ?? []);
}

describe(`ax650-generate with images (${TEST_KIND})`, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ vision: true });
  });
  after(() => h.close());

  if (TEST_KIND === 'axllm') {
    test('a JPEG and a PNG Buffer are described; the stream has no image, output 2 has it', async () => {
      const gen = h.node('gen');
      const jpeg = await solid(320, 240, BLUE, 'jpeg');
      gen.receive({ payload: 'What do you see?', image: jpeg, topic: 'jpeg' });
      gen.receive({ payload: 'What do you see?', image: await solid(200, 100, RED, 'png'), topic: 'png' });
      const finals = await h.waitFor('gen-final', 2);
      assert.deepEqual(finals.map((m) => m.topic), ['jpeg', 'png']);
      assert.match(String(finals[0]!.payload), /I see a 320x240 JPEG image, mostly blue/);
      assert.match(String(finals[1]!.payload), /I see a 200x100 PNG image, mostly red/);
      assert.ok(Buffer.isBuffer(finals[0]!.image), 'output 2 keeps msg.image');
      const stream = h.received.get('gen-stream')!;
      assert.ok(stream.length > 2);
      assert.ok(stream.every((m) => m.image === undefined), 'no stream message carries the frame');
      assert.match(streamText(stream.filter((m) => m.topic === 'jpeg')), /320x240 JPEG/);
    });

    test('msg.images: two images in one prompt; a 1280×720 frame reaches the runtime at 448×252', async () => {
      const gen = h.node('gen');
      gen.receive({ payload: 'Compare.', images: [await solid(64, 64, GREEN, 'png'), `data:image/jpeg;base64,${(await cameraFrame()).toString('base64')}`] });
      const finals = await h.waitFor('gen-final', 3);
      assert.match(String(finals[2]!.payload), /64x64 PNG image, mostly green.*448x252 JPEG image/s);
      const sent = (await chatImages(h.simLog)).at(-1)!;
      assert.deepEqual(sent.map((i) => [i.format, i.width, i.height]), [['png', 64, 64], ['jpeg', 448, 252]]);
    });

    test('msg.stop right after an image message: that prompt is not run to its end', async () => {
      const gen = h.node('gen');
      const caughtBefore = h.received.get('caught')!.length;
      const finalsBefore = h.received.get('gen-final')!.length;
      // A 12-megapixel photo: its preparation is still under way when the stop arrives.
      gen.receive({ payload: 'Describe the photo.', image: await solid(4000, 3000, BLUE, 'jpeg'), topic: 'photo' });
      gen.receive({ stop: true });
      await Promise.race([h.waitFor('caught', caughtBefore + 1), h.waitFor('gen-final', finalsBefore + 1)]);
      const caught = h.received.get('caught')!.slice(caughtBefore);
      const finals = h.received.get('gen-final')!.slice(finalsBefore);
      if (caught.length > 0) {
        assert.equal(caught[0]!.topic, 'photo');
        const err = caught[0]!.error as { message: string; code?: string };
        assert.equal(err.code, 'ABORTED');
        assert.match(err.message, /cancelled/);
      } else {
        assert.equal((finals[0]!.stats as { doneReason: string }).doneReason, 'abort');
      }
    });

    test('a bad image reaches Catch with BAD_INPUT naming the field; nothing reaches the runtime', async () => {
      const before = (await chatImages(h.simLog)).length;
      const caughtBefore = h.received.get('caught')!.length;
      h.node('gen').receive({ payload: 'What is this?', images: [await solid(8, 8, RED, 'png'), Buffer.from('not an image at all')], topic: 'bad' });
      const caught = (await h.waitFor('caught', caughtBefore + 1))[caughtBefore];
      const err = caught!.error as { message: string; code?: string };
      assert.equal(caught!.topic, 'bad');
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /msg\.images\[1\] is not a JPEG or PNG image/);
      assert.equal((await chatImages(h.simLog)).length, before);
    });

    test('a frame as msg.payload (file in → generate) and msg.image without a question: the default question is asked', async () => {
      const finalsBefore = h.received.get('gen-final')!.length;
      const gen = h.node('gen');
      gen.receive({ payload: await solid(40, 30, GREEN, 'png'), topic: 'payload-frame' });
      gen.receive({ payload: await solid(24, 16, RED, 'jpeg'), prompt: 'Is it red?', topic: 'payload-frame-question' });
      gen.receive({ image: await solid(20, 10, BLUE, 'png'), topic: 'image-only' });
      const finals = (await h.waitFor('gen-final', finalsBefore + 3)).slice(finalsBefore);
      assert.deepEqual(finals.map((m) => m.topic), ['payload-frame', 'payload-frame-question', 'image-only']);
      assert.match(String(finals[0]!.payload), /I see a 40x30 PNG image, mostly green/);
      assert.match(String(finals[1]!.payload), /I see a 24x16 JPEG image, mostly red/);
      assert.match(String(finals[2]!.payload), /I see a 20x10 PNG image, mostly blue/);
      const asked = (await readFile(h.simLog, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; path?: string; body?: { messages?: Array<{ role: string; content: unknown }> } })
        .filter((e) => e.event === 'request' && e.path === '/v1/chat/completions').slice(-3)
        .map((e) => JSON.stringify(e.body?.messages?.at(-1)?.content));
      assert.match(asked[0]!, /"text":"Describe this image\."/);
      assert.match(asked[1]!, /"text":"Is it red\?"/);
      assert.match(asked[2]!, /"text":"Describe this image\."/);
      const stream = h.received.get('gen-stream')!.filter((m) => m.topic === 'payload-frame');
      assert.ok(stream.every((m) => typeof m.payload === 'string'), 'the stream carries text, not the frame');
    });
  } else {
    test('the 2025 runtime has no vision: VISION_UNSUPPORTED at Catch, and text still works', async () => {
      const gen = h.node('gen');
      gen.receive({ payload: 'What do you see?', image: await solid(32, 32, RED, 'png'), topic: 'img' });
      const [caught] = await h.waitFor('caught', 1);
      assert.equal(caught!.topic, 'img');
      const err = caught!.error as { message: string; code?: string };
      assert.equal(err.code, 'VISION_UNSUPPORTED');
      assert.match(err.message, /2025 main_api runtime, which cannot take images at all; load a vision-language model folder .* with the axllm runtime/);
      gen.receive({ payload: 'Hello?', topic: 'text' });
      const [final] = await h.waitFor('gen-final', 1);
      assert.equal(final!.topic, 'text');
    });
  }
});

describe(`ax650-generate with an image on a text-only model (${TEST_KIND})`, { skip: TEST_KIND === 'axllm' ? false : 'the 2025 runtime case is above' }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('VISION_UNSUPPORTED at Catch with a sentence; nothing reaches the runtime', async () => {
    h.node('gen').receive({ payload: 'What do you see?', image: await solid(16, 16, GREEN, 'jpeg'), topic: 'img' });
    const [caught] = await h.waitFor('caught', 1);
    assert.equal(caught!.topic, 'img');
    const err = caught!.error as { message: string; code?: string };
    assert.equal(err.code, 'VISION_UNSUPPORTED');
    assert.match(err.message, /cannot see images \(it is a text-only model\)/);
    assert.equal((await chatImages(h.simLog)).length, 0);
  });
});
