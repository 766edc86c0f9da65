/**
 * Camera frames through the bridges as a user deploys them (issue 16 item 2, acceptance "MQTT and both API
 * styles, on both legs"): one Node-RED flow with an ax650-runtime on the simulator (a VL folder on axllm;
 * the 2025 runtime has no vision), an ax650-mqtt node on aedes and an ax650-api node. One image each goes
 * in through MQTT (base64 in the JSON request), the ollama client (`images`) and the openai client
 * (an `image_url` data URI); on axllm each is described and what reached the runtime is read from the
 * simulator's log, on the 2025 runtime each is refused with VISION_UNSUPPORTED. A full-size 1080p frame
 * (2.5 MB as base64) fits the API node's default request limit (16 MiB) and gets a 413 that says why from
 * a node whose limit is set to 1 MiB.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { TEST_KIND } from '../helpers/kind';
import { freeLoopbackPort } from '../helpers/node-red-process';
import type { NodeModule } from '../helpers/nr';
import { startAedes, type AedesBroker } from '../mqtt/brokers';
import { Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from '../mqtt-node/flow';
import { BLUE, cameraFrame, RED, solid } from './images';

const apiNode = (): NodeModule => (require(path.resolve(__dirname, '../../nodes/ax650-api.js')) as { default: NodeModule }).default;
type Img = { format: string; width: number | null; height: number | null };
const VISION = TEST_KIND === 'axllm';
const G1_REFUSAL = /2025 main_api runtime, which cannot take images at all/;

describe(`ax650-mqtt and ax650-api nodes with images (${TEST_KIND})`, () => {
  let broker: AedesBroker;
  let flow: BridgeFlow;
  let req: Requester;
  let ollama: Ollama;
  let openai: OpenAI;
  let small: Ollama;
  let model = '';
  const lastImages = async (): Promise<Array<[string, number | null, number | null]>> =>
    (((await flow.simLog('rt')).filter((e) => e['event'] === 'chat').at(-1)?.['images'] as Img[] | undefined) ?? []).map((i) => [i.format, i.width, i.height]);
  const chats = async (): Promise<number> => (await flow.simLog('rt')).filter((e) => e['event'] === 'chat').length;

  before(async () => {
    broker = await startAedes();
    const port = await freeLoopbackPort();
    const smallPort = await freeLoopbackPort();
    flow = await startBridgeFlow({
      broker: broker.url,
      vision: true,
      bridges: [{ id: 'bridge', topic: 'cam/ask', protocolVersion: '4' }],
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '400' },
      extraNodes: [
        { id: 'api', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port: String(port), modelName: '' },
        { id: 'api-small', z: 'tab', type: 'ax650-api', runtime: 'rt', host: '127.0.0.1', port: String(smallPort), modelName: '', bodyLimit: '1' },
      ],
      extraModules: [apiNode()],
    });
    await flow.waitForStatus('bridge', isConnected, 'connected');
    req = await Requester.connect(broker.url, { protocolVersion: 4 });
    await req.subscribe('cam/ask/response');
    ollama = new Ollama({ host: `http://127.0.0.1:${port}` });
    small = new Ollama({ host: `http://127.0.0.1:${smallPort}` });
    openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'none', maxRetries: 0 });
    model = (await ollama.list()).models[0]!.name;
  });
  after(async () => {
    await req?.close();
    await flow?.close();
    await broker?.close();
  });

  test('MQTT: a 1280×720 frame as base64 in the JSON request', async () => {
    const before = await chats();
    await req.publish('cam/ask', JSON.stringify({ id: 'frame-1', prompt: 'Is the path clear?', image: (await cameraFrame()).toString('base64') }));
    const end = await req.terminalOf('frame-1', 30_000);
    if (VISION) {
      assert.match(String(end.body.text), /I see a 448x252 JPEG image/);
      assert.deepEqual(await lastImages(), [['jpeg', 448, 252]]);
    } else {
      const err = end.body.error as { code: string; message: string };
      assert.equal(err.code, 'VISION_UNSUPPORTED');
      assert.match(err.message, G1_REFUSAL);
      assert.equal(await chats(), before, 'nothing reached the runtime');
    }
  });

  test('ollama client: a PNG in images on /api/chat; /api/show lists the vision capability', async () => {
    const png = (await solid(200, 100, RED, 'png')).toString('base64');
    const show = await ollama.show({ model });
    assert.equal((show.capabilities as string[]).includes('vision'), VISION);
    const ask = ollama.chat({ model, messages: [{ role: 'user', content: 'What colour is the part?', images: [png] }], stream: false });
    if (VISION) {
      assert.match((await ask).message.content, /I see a 200x100 PNG image, mostly red/);
      assert.deepEqual(await lastImages(), [['png', 200, 100]]);
    } else {
      await assert.rejects(ask, (e: { status_code?: number; message?: string }) => {
        assert.equal(e.status_code, 400);
        assert.match(e.message ?? '', G1_REFUSAL);
        return true;
      });
    }
  });

  test('openai client: a JPEG as an image_url data URI', async () => {
    const url = `data:image/jpeg;base64,${(await solid(320, 240, BLUE, 'jpeg')).toString('base64')}`;
    const ask = openai.chat.completions.create({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url } }] }] });
    if (VISION) {
      assert.match((await ask).choices[0]!.message.content ?? '', /I see a 320x240 JPEG image, mostly blue/);
      assert.deepEqual(await lastImages(), [['jpeg', 320, 240]]);
    } else {
      await assert.rejects(ask, (e: { status?: number; code?: string | null; message?: string }) => {
        assert.equal(e.status, 400);
        assert.equal(e.code, 'VISION_UNSUPPORTED');
        assert.match(e.message ?? '', G1_REFUSAL);
        return true;
      });
    }
  });

  test('request limit: a 1080p frame (2.5 MB base64) fits the default 16 MiB; a node set to 1 MiB answers 413 saying why', async () => {
    const frame = (await cameraFrame(1920, 1080, 100)).toString('base64');
    assert.ok(frame.length > 2 * 1024 * 1024);
    const ask = (client: Ollama) => client.chat({ model, messages: [{ role: 'user', content: 'Is the path clear?', images: [frame] }], stream: false });
    if (VISION) assert.match((await ask(ollama)).message.content, /I see a 448x252 JPEG image/);
    else await assert.rejects(ask(ollama), (e: { status_code?: number }) => e.status_code === 400);
    await assert.rejects(ask(small), (e: { status_code?: number; message?: string }) => {
      assert.equal(e.status_code, 413);
      assert.match(e.message ?? '', /^request body too large: the limit is 1 MiB \(1048576 bytes\)\. Images count towards it as base64/);
      assert.match(e.message ?? '', /raise the API node's request limit/);
      return true;
    });
  });
});
