import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { pngMeanColour } from '../../simulator/axllm/png-colour';
import { chatBody, post, sseData, startAxllm } from './helpers';

const CHAT = '/v1/chat/completions';

/** The first bytes of a PNG (signature + IHDR): enough for the simulated encoder, which reads the header only. */
function pngHeader(width: number, height: number, fill: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, Buffer.alloc(40, fill)]);
}

/** A real 8-bit RGB PNG of one colour, every scanline encoded with the given filter (0–4). CRCs are left zero. */
function solidPng(width: number, height: number, rgb: [number, number, number], filter: number): Buffer {
  const bpp = 3;
  const raw = Buffer.from(Array.from({ length: width * bpp }, (_, i) => rgb[i % 3] ?? 0));
  const rows: Buffer[] = [];
  let prev = Buffer.alloc(raw.length);
  for (let y = 0; y < height; y++) {
    const out = Buffer.alloc(raw.length);
    for (let x = 0; x < raw.length; x++) {
      const a = x >= bpp ? (raw[x - bpp] ?? 0) : 0;
      const b = prev[x] ?? 0;
      const c = x >= bpp ? (prev[x - bpp] ?? 0) : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter] ?? 0;
      out[x] = ((raw[x] ?? 0) - predictor) & 0xff;
    }
    rows.push(Buffer.from([filter]), out);
    prev = raw;
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

function jpegHeader(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.alloc(16, 7)]);
}

function imageMessage(image: Buffer, mime: string, text = 'What is in this picture?'): Record<string, unknown> {
  return { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:${mime};base64,${image.toString('base64')}` } }, { type: 'text', text }] };
}

function contentOf(text: string): string {
  return (JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '';
}

describe('axllm media and tools (§6, §7)', () => {
  it('§7 a VL model folder (vlm_type): vision in /v1/models, data-URI images decoded, the reply depends on the image', async () => {
    const run = await startAxllm({ dirOpts: { vision: true } });
    try {
      const model = run.folder.modelName;
      assert.equal(model, 'AXERA-TECH/Qwen3-VL-2B-Instruct');
      const models = (await (await fetch(`${run.baseUrl}/v1/models`)).json()) as { data: Array<Record<string, unknown>> };
      assert.deepEqual(models.data[0]?.['capabilities'], { vision: true });
      assert.deepEqual(models.data[0]?.['input_modalities'], ['text', 'image']);
      const ask = (message: Record<string, unknown>): Promise<string> => post(run.baseUrl, CHAT, { model, enable_thinking: false, messages: [message] }).then((r) => (assert.equal(r.status, 200, r.text), contentOf(r.text)));
      const red = await ask(imageMessage(pngHeader(640, 480, 1), 'image/png'));
      const blue = await ask(imageMessage(pngHeader(640, 480, 2), 'image/png'));
      const jpeg = await ask(imageMessage(jpegHeader(320, 200), 'image/jpeg'));
      assert.match(red, /^I see a 640x480 PNG image \(\d+ bytes, fingerprint [0-9a-f]{8}\)\./);
      assert.notEqual(red.split(')')[0], blue.split(')')[0], 'different bytes, different description');
      assert.match(jpeg, /^I see a 320x200 JPEG image/);
      assert.equal(await ask(imageMessage(pngHeader(640, 480, 1), 'image/png')), red, 'greedy: the same image gives the same reply');
      const chats = (await run.readLog()).filter((e) => e['event'] === 'chat');
      const text = await post(run.baseUrl, CHAT, chatBody(model, 'What is in this picture?', { enable_thinking: false }));
      assert.equal(text.status, 200);
      const plain = (await run.readLog()).filter((e) => e['event'] === 'chat').at(-1);
      assert.equal(chats[0]?.['media'], 1);
      assert.ok(Number(chats[0]?.['prompt_tokens']) >= Number(plain?.['prompt_tokens']) + 256, 'an image costs 256 prompt tokens');
      const bad = await post(run.baseUrl, CHAT, { model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,ab$d' } }] }] });
      assert.equal(bad.status, 400);
      assert.match(run.sim.stderr(), /invalid base64 character 0x24/);
    } finally {
      await run.stop();
    }
  });

  it('§7 the simulated encoder reads a PNG\'s mean colour (every scanline filter), so a red image is described as red', async () => {
    for (let filter = 0; filter <= 4; filter++) assert.deepEqual(pngMeanColour(solidPng(5, 4, [200, 30, 20], filter)), [200, 30, 20], `filter ${filter}`);
    const run = await startAxllm({ dirOpts: { vision: true } });
    try {
      const model = run.folder.modelName;
      const red = await post(run.baseUrl, CHAT, { model, enable_thinking: false, messages: [imageMessage(solidPng(32, 24, [210, 25, 30], 4), 'image/png', 'What colour is the block?')] });
      assert.match(contentOf(red.text), /^I see a 32x24 PNG image, mostly red \(mean #d2191e\) /);
      const blue = await post(run.baseUrl, CHAT, { model, enable_thinking: false, messages: [imageMessage(solidPng(32, 24, [20, 50, 230], 1), 'image/png', 'What colour is the block?')] });
      assert.match(contentOf(blue.text), /mostly blue/);
    } finally {
      await run.stop();
    }
  });

  it('§6 tools (PR56, AX650_SIM_TOOL_CALL): non-stream tool_calls with content null; tool_choice none answers in text; stream sends one tool_calls chunk; tool results are accepted', async () => {
    const run = await startAxllm({ env: { AX650_SIM_TOOL_CALL: '{"name":"move_arm","arguments":{"cm":10}}' } });
    try {
      const model = run.folder.modelName;
      const tools = [{ type: 'function', function: { name: 'move_arm', description: 'Move the arm', parameters: { type: 'object', properties: { cm: { type: 'number' } } } } }];
      const res = await post(run.baseUrl, CHAT, chatBody(model, 'move 10 cm', { tools }));
      assert.equal(res.status, 200);
      const body = JSON.parse(res.text) as { choices: Array<Record<string, unknown>> };
      assert.deepEqual(body.choices[0], {
        finish_reason: 'tool_calls',
        index: 0,
        message: { content: null, role: 'assistant', tool_calls: [{ function: { arguments: '{"cm":10}', name: 'move_arm' }, id: 'call_0_move_arm', type: 'function' }] },
      });
      const none = await post(run.baseUrl, CHAT, chatBody(model, 'move 10 cm', { tools, tool_choice: 'none' }));
      assert.doesNotMatch(contentOf(none.text), /tool_call/);
      const stream = await post(run.baseUrl, CHAT, chatBody(model, 'move 10 cm', { tools, stream: true, enable_thinking: false }));
      const chunks = sseData(stream.text);
      assert.equal(chunks.at(-1), '[DONE]');
      const parsed = chunks.slice(0, -1).map((c) => JSON.parse(c) as { choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }> });
      assert.equal(parsed.length, 2, 'one tool_calls chunk and the finish chunk');
      assert.deepEqual(parsed[0]?.choices[0]?.delta['tool_calls'], [{ function: { arguments: '{"cm":10}', name: 'move_arm' }, id: 'call_0_move_arm', index: 0, type: 'function' }]);
      assert.equal(parsed[1]?.choices[0]?.finish_reason, 'tool_calls');
      const followUp = await post(run.baseUrl, CHAT, {
        model,
        tools,
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'move 10 cm' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_0_move_arm', type: 'function', function: { name: 'move_arm', arguments: '{"cm":10}' } }] },
          { role: 'tool', tool_call_id: 'call_0_move_arm', content: '{"ok":true}' },
        ],
      });
      assert.equal(followUp.status, 200);
      assert.ok(contentOf(followUp.text).length > 0);
    } finally {
      await run.stop();
    }
  });
});
