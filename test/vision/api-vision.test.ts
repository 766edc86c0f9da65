/**
 * Images through the API facade with the real npm clients (issue 16 item 2): Ollama `images` on
 * /api/generate and /api/chat (ollama client), OpenAI `image_url` data-URI parts (openai client),
 * on the axllm simulator with a VL folder; what reached the runtime is read from its log. A web
 * address is refused with a 400 and a sentence; a bad image is a 400; a text-only model is a 400
 * VISION_UNSUPPORTED; /api/show lists the vision capability.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { startApiServer, type ApiServer } from '../../lib/ollama/server';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';
import { BLUE, cameraFrame, GREEN, RED, solid } from './images';

after(stopAll);

type Entry = Record<string, unknown>;
type Img = { format: string; width: number | null; height: number | null };
const lastImages = (log: Entry[]): Img[] => (log.filter((e) => e['event'] === 'chat').at(-1)?.['images'] as Img[] | undefined) ?? [];
const MODEL = 'qwen3-ax650';

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('API facade with images, VL model on axllm', () => {
  let sim: SimRuntime;
  let server: ApiServer;
  let ollama: Ollama;
  let openai: OpenAI;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm', vision: true, simEnv: { AX650_SIM_TOKENS_PER_SEC: '400' } });
    server = await startApiServer({ runner: sim.rt, port: 0 });
    ollama = new Ollama({ host: server.url });
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await server.close();
    await sim.stop();
  });

  test('ollama generate with a JPEG and chat with a PNG (Buffers and base64, as the client sends them)', async () => {
    const g = await ollama.generate({ model: MODEL, prompt: 'What is this?', images: [await solid(320, 240, BLUE, 'jpeg')], stream: false });
    assert.match(String(g.response), /I see a 320x240 JPEG image, mostly blue/);
    const png = (await solid(200, 100, RED, 'png')).toString('base64');
    const c = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'And this?', images: [png] }], stream: false });
    assert.match(c.message.content, /I see a 200x100 PNG image, mostly red/);
    const show = await ollama.show({ model: MODEL });
    assert.ok((show.capabilities as string[]).includes('vision'));
  });

  test('ollama chat streamed with two images; a 1280×720 frame reaches the runtime at 448×252', async () => {
    const stream = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'Compare.', images: [await solid(64, 64, GREEN, 'png'), await cameraFrame()] }], stream: true });
    let text = '';
    for await (const part of stream) text += part.message.content;
    assert.match(text, /64x64 PNG image, mostly green.*448x252 JPEG image/s);
    assert.deepEqual(lastImages((await sim.readSimLog()) as unknown as Entry[]).map((i) => [i.format, i.width, i.height]), [['png', 64, 64], ['jpeg', 448, 252]]);
  });

  test('a full-size 1080p frame of 2.5 MB as base64 (over 2 MiB) goes through the ollama client and reaches the runtime scaled', async () => {
    const frame = (await cameraFrame(1920, 1080, 100)).toString('base64');
    assert.ok(frame.length > 2 * 1024 * 1024, `base64 frame of ${frame.length} bytes`);
    const c = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'What is in front of the robot?', images: [frame] }], stream: false });
    assert.match(c.message.content, /I see a 448x252 JPEG image/);
    assert.deepEqual(lastImages((await sim.readSimLog()) as unknown as Entry[]).map((i) => [i.format, i.width, i.height]), [['jpeg', 448, 252]]);
  });

  test('openai chat with image_url data-URI parts, not streamed and streamed', async () => {
    const url = `data:image/png;base64,${(await solid(96, 32, BLUE, 'png')).toString('base64')}`;
    const r = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url } }] }] });
    assert.match(r.choices[0]!.message.content ?? '', /96x32 PNG image, mostly blue/);
    const frame = `data:image/jpeg;base64,${(await cameraFrame()).toString('base64')}`;
    const s = await openai.chat.completions.create({ model: MODEL, stream: true, messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe.' }, { type: 'image_url', image_url: { url: frame } }] }] });
    let text = '';
    for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? '';
    assert.match(text, /448x252 JPEG image/);
  });

  test('a web address is refused with a 400 and a sentence; a bad image is a 400 BAD_INPUT', async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'https://example.com/cam.jpg' } }] }] }),
      (e: { status?: number; message?: string }) => {
        assert.equal(e.status, 400);
        assert.match(e.message ?? '', /does not fetch URLs/);
        return true;
      },
    );
    const bad = await post(`${server.url}/api/generate`, { model: MODEL, prompt: 'hi', images: [Buffer.from('not an image').toString('base64')], stream: false });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /images\[0\] is not a JPEG or PNG image/);
  });
});

describe('API facade with images, text-only model', () => {
  let sim: SimRuntime;
  let server: ApiServer;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm' });
    server = await startApiServer({ runner: sim.rt, port: 0 });
  });
  after(async () => {
    await server.close();
    await sim.stop();
  });

  test('images give 400 with the VISION_UNSUPPORTED sentence on both API styles', async () => {
    const png = (await solid(10, 10, RED, 'png')).toString('base64');
    const a = await post(`${server.url}/api/chat`, { model: MODEL, messages: [{ role: 'user', content: 'What?', images: [png] }], stream: false });
    assert.equal(a.status, 400);
    assert.match(String(a.body['error']), /cannot see images/);
    const b = await post(`${server.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }, { type: 'text', text: 'What?' }] }] });
    assert.equal(b.status, 400);
    const err = b.body['error'] as { code?: string; message?: string };
    assert.equal(err.code, 'VISION_UNSUPPORTED');
    assert.match(String(err.message), /cannot see images/);
  });
});
