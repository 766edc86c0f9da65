/**
 * Images through the MQTT bridge (issue 16 item 2) on the axllm simulator with a VL folder: a bare
 * JPEG/PNG payload with the prompt in an MQTT v5 user property (mosquitto), the same over MQTT 3.1.1
 * with the default prompt (aedes), base64 images in the JSON request, a bad image answered with
 * BAD_INPUT, and a text-only model answered with VISION_UNSUPPORTED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_IMAGE_PROMPT } from '../../lib/vision/source';
import { startAedes, startMosquitto, stopMosquitto, MOSQUITTO_SKIP, type AedesBroker, type Mosquitto } from '../mqtt/brokers';
import { startTestBridge, type TestBridge } from '../mqtt/harness';
import { Requester } from '../mqtt/requester';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';
import { BLUE, cameraFrame, GREEN, RED, solid } from './images';

after(stopAll);

type Entry = Record<string, unknown>;
type Img = { format: string; width: number | null; height: number | null };
const chats = async (sim: SimRuntime): Promise<Entry[]> => ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'chat');

describe('MQTT 5 with images (mosquitto), VL model', { skip: MOSQUITTO_SKIP }, () => {
  let sim: SimRuntime;
  let broker: Mosquitto;
  let tb: TestBridge;
  let req: Requester;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm', vision: true, simEnv: { AX650_SIM_TOKENS_PER_SEC: '400' } });
    broker = await startMosquitto();
    tb = await startTestBridge({ runner: sim.rt, url: broker.url, promptTopic: 'cam/prompt', protocolVersion: 5, clientId: 'vision-bridge' });
    req = await Requester.connect(broker.url);
    await req.subscribe('cam/prompt/response');
  });
  after(async () => {
    await req.close();
    await tb.bridge.close();
    await stopMosquitto(broker);
    await sim.stop();
  });

  test('a bare JPEG frame with the prompt in a user property: described, downscaled at the runtime', async () => {
    await req.publish('cam/prompt', await cameraFrame(), { qos: 1, properties: { userProperties: { prompt: 'Is the path clear?', id: 'frame-1' } } });
    const final = await req.terminalOf('frame-1');
    assert.match(String(final.body.text), /448x252 JPEG image/);
    const last = (await chats(sim)).at(-1)!;
    assert.deepEqual((last['images'] as Img[]).map((i) => [i.format, i.width, i.height]), [['jpeg', 448, 252]]);
    const body = ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'request' && e['path'] === '/v1/chat/completions').at(-1)!['body'] as { messages: Array<{ content: unknown }> };
    assert.match(JSON.stringify(body.messages.at(-1)!.content), /Is the path clear\?/);
  });

  test('base64 images in the JSON request (image and images), a bad one answered with BAD_INPUT', async () => {
    const png = (await solid(120, 60, GREEN, 'png')).toString('base64');
    await req.publish('cam/prompt', JSON.stringify({ id: 'j1', prompt: 'What colour?', image: png }));
    assert.match(String((await req.terminalOf('j1')).body.text), /120x60 PNG image, mostly green/);
    const two = [`data:image/jpeg;base64,${(await solid(40, 30, BLUE, 'jpeg')).toString('base64')}`, (await solid(30, 40, RED, 'png')).toString('base64')];
    await req.publish('cam/prompt', JSON.stringify({ id: 'j2', prompt: 'Compare.', images: two }));
    assert.match(String((await req.terminalOf('j2')).body.text), /40x30 JPEG image.*30x40 PNG image, mostly red/s);
    await req.publish('cam/prompt', JSON.stringify({ id: 'j3', prompt: 'And this?', image: Buffer.from('no picture').toString('base64') }));
    const err = (await req.terminalOf('j3')).body.error as { code: string; message: string };
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /payload\.image is not a JPEG or PNG image/);
  });
});

describe('MQTT 3.1.1 bare image (aedes): the default prompt; a text-only model says VISION_UNSUPPORTED', () => {
  let broker: AedesBroker;
  const stops: Array<() => Promise<void>> = [];
  before(async () => {
    broker = await startAedes();
  });
  after(async () => {
    for (const s of stops.reverse()) await s();
    await broker.close();
  });

  for (const vision of [true, false]) {
    test(vision ? 'VL model: a PNG payload is described with the default prompt' : 'text-only model: an error reply VISION_UNSUPPORTED', async () => {
      const sim = await startSimRuntime({ kind: 'axllm', vision, simEnv: { AX650_SIM_TOKENS_PER_SEC: '400' } });
      stops.push(() => sim.stop());
      const topic = `v3/${vision ? 'vl' : 'text'}`;
      const tb = await startTestBridge({ runner: sim.rt, url: broker.url, promptTopic: topic, protocolVersion: 4, clientId: `b-${topic.replace('/', '-')}` });
      stops.push(() => tb.bridge.close());
      const req = await Requester.connect(broker.url, { protocolVersion: 4 });
      stops.push(() => req.close());
      await req.subscribe(`${topic}/response`);
      await req.publish(topic, await solid(80, 80, RED, 'png'));
      await req.waitFor((r) => r.some((x) => x.body.done === true), 20_000, 'a final reply');
      const final = req.replies.find((x) => x.body.done === true)!;
      if (vision) {
        assert.match(String(final.body.text), /80x80 PNG image, mostly red/);
        const body = ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'request' && e['path'] === '/v1/chat/completions').at(-1)!['body'];
        assert.ok(JSON.stringify(body).includes(DEFAULT_IMAGE_PROMPT));
      } else {
        const err = final.body.error as { code: string; message: string };
        assert.equal(err.code, 'VISION_UNSUPPORTED');
        assert.match(err.message, /cannot see images/);
        assert.equal((await chats(sim)).length, 0, 'nothing reached the runtime');
      }
    });
  }
});
