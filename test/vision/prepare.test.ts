/**
 * lib/vision (issue 16 item 1): a JPEG/PNG Buffer, base64 and a data URI are decoded, scaled to fit
 * the model's input and re-encoded; a 1280×720 frame comes out at most 448 wide; everything else is
 * BAD_INPUT with a sentence; a decompression bomb is refused before it is decoded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { prepareImage } from '../../lib/vision/prepare';
import { imageInputs } from '../../lib/vision/source';
import { visionTargetFromConfig } from '../../lib/vision/model-input';
import { keepImageBudget } from '../../lib/vision/transcript';
import { ConversationStore } from '../../lib/runtime/context-tracker';
import { prepareForRuntime } from '../../lib/vision/for-runtime';
import type { ChatMessage, PreparedImage } from '../../lib/runtime/types';
import { BLUE, cameraFrame, RED, solid } from './images';

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const TARGET = { width: 448, height: 448 };

async function decoded(p: PreparedImage): Promise<{ width: number; height: number; format: string; mean: number[] }> {
  const bytes = Buffer.from(p.dataUri.slice(p.dataUri.indexOf(',') + 1), 'base64');
  const meta = await sharp(bytes).metadata();
  const stats = await sharp(bytes).stats();
  return { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? '', mean: stats.channels.slice(0, 3).map((c) => Math.round(c.mean)) };
}

async function badInput(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: { code?: string; message?: string }) => {
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message ?? '', pattern);
    return true;
  });
}

describe('lib/vision: prepare an image for the model', () => {
  test('a 1280×720 JPEG frame is scaled to fit 448×448, aspect kept, sent as JPEG', async () => {
    const frame = await cameraFrame();
    const p = await prepareImage(frame, TARGET);
    assert.equal(p.mime, 'image/jpeg');
    assert.deepEqual([p.width, p.height], [448, 252]);
    const d = await decoded(p);
    assert.deepEqual([d.width, d.height, d.format], [448, 252, 'jpeg']);
    assert.ok(p.bytes < frame.length, `re-encoded ${p.bytes} bytes < original ${frame.length}`);
    assert.match(p.dataUri, /^data:image\/jpeg;base64,/);
  });

  test('a PNG stays PNG with its colour; a small image is not enlarged', async () => {
    const p = await prepareImage(await solid(64, 48, RED, 'png'), TARGET);
    assert.equal(p.mime, 'image/png');
    const d = await decoded(p);
    assert.deepEqual([d.width, d.height, d.format], [64, 48, 'png']);
    assert.deepEqual(d.mean, [220, 30, 30]);
  });

  test('base64 and a data URI give the same image as the Buffer', async () => {
    const jpeg = await solid(100, 80, BLUE, 'jpeg');
    const a = await prepareImage(jpeg, TARGET);
    const b = await prepareImage(jpeg.toString('base64'), TARGET);
    const c = await prepareImage(`data:image/jpeg;base64,${jpeg.toString('base64')}`, TARGET);
    assert.equal(b.dataUri, a.dataUri);
    assert.equal(c.dataUri, a.dataUri);
  });

  test('bad inputs: BAD_INPUT with a sentence naming the field', async () => {
    await badInput(prepareImage(Buffer.from('hello, not an image'), TARGET, 'msg.image'), /msg\.image is not a JPEG or PNG image/);
    await badInput(prepareImage(42, TARGET, 'msg.image'), /msg\.image must be a Buffer.*got number 42/);
    await badInput(prepareImage('https://example.com/cam.jpg', TARGET, 'msg.image'), /does not fetch URLs/);
    await badInput(prepareImage('not base64 at all!', TARGET, 'msg.image'), /neither base64 nor a data: URI/);
    await badInput(prepareImage('data:image/png,abc', TARGET, 'msg.image'), /without ;base64/);
    const jpeg = await solid(100, 80, BLUE, 'jpeg');
    await badInput(prepareImage(jpeg.subarray(0, 200), TARGET, 'msg.images[1]'), /msg\.images\[1\] could not be decoded as JPEG/);
    assert.throws(() => imageInputs(undefined, 'x'), /msg\.images must be a list/);
  });

  test('a decompression bomb (a tiny PNG of 50,000×50,000 pixels) is refused before it is decoded', async () => {
    const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer();
    // Rewrite the IHDR size: a few hundred KB claiming 2.5 gigapixels.
    bomb.writeUInt32BE(50_000, 16);
    bomb.writeUInt32BE(50_000, 20);
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
    const before = process.memoryUsage().rss;
    await badInput(prepareImage(bomb, TARGET), /megapixels/);
    assert.ok(process.memoryUsage().rss - before < 200 * 1048576, 'memory stayed bounded');
  });

  test('the model input size from config.json', () => {
    assert.deepEqual(visionTargetFromConfig({ vision_width: 448, vision_height: 448 }), { width: 448, height: 448 });
    assert.deepEqual(visionTargetFromConfig({ image_size: 384 }), { width: 384, height: 384 });
    assert.deepEqual(visionTargetFromConfig({ filename_image_encoder_axmodel: 'internvl3_vision_448x224.axmodel' }), { width: 448, height: 224 });
    assert.deepEqual(visionTargetFromConfig({}), { width: 448, height: 448 });
  });

  test('a text-only model refuses before decoding: VISION_UNSUPPORTED', async () => {
    await assert.rejects(prepareForRuntime({ modelName: 'Qwen3-1.7B', vision: false, visionInput: null }, [{ input: 'garbage', field: 'msg.image' }]), (e: { code?: string; message?: string }) => {
      assert.equal(e.code, 'VISION_UNSUPPORTED');
      assert.match(e.message ?? '', /"Qwen3-1\.7B" cannot see images/);
      return true;
    });
  });

  test('the transcript keeps the last 2 image turns within 1 MiB; older images become "[image]"', () => {
    const img = (n: number): PreparedImage => ({ dataUri: `data:image/jpeg;base64,${'A'.repeat(n)}`, mime: 'image/jpeg', width: 1, height: 1, bytes: n });
    const turns: ChatMessage[] = [];
    for (let i = 0; i < 4; i++) turns.push({ role: 'user', content: `q${i}`, images: [img(1000)] }, { role: 'assistant', content: `a${i}` });
    const kept = keepImageBudget(turns);
    assert.deepEqual(kept.filter((t) => t.role === 'user').map((t) => [t.content, t.images?.length ?? 0]), [['[image] q0', 0], ['[image] q1', 0], ['q2', 1], ['q3', 1]]);
    const big = keepImageBudget([{ role: 'user', content: 'old', images: [img(700_000)] }, { role: 'assistant', content: 'x' }, { role: 'user', content: 'new', images: [img(700_000)] }]);
    assert.deepEqual(big.map((t) => t.images?.length ?? 0), [0, 0, 1]);
  });

  test('persisted conversations keep their images through a save and load; a tampered image becomes "[image]"', async () => {
    const png = await prepareImage(await solid(20, 10, RED, 'png'), TARGET);
    const store = new ConversationStore();
    store.getOrCreate('cam', 'sys');
    store.addTurn('cam', 'look', 'a red square', [png]);
    const saved = JSON.parse(JSON.stringify(store.toJSON())) as Record<string, { turns: Array<Record<string, unknown>> }>;
    const back = new ConversationStore();
    back.load(saved);
    assert.deepEqual(back.get('cam')?.turns[0]?.images, [png]);
    saved['cam']!.turns[0]!['images'] = [{ dataUri: 'file:///etc/passwd', mime: 'image/png', width: 1, height: 1, bytes: 1 }];
    const tampered = new ConversationStore();
    tampered.load(saved);
    assert.deepEqual(tampered.get('cam')?.turns[0], { role: 'user', content: '[image] look' });
  });
});
