/**
 * The error sentence a Catch node, the MQTT bridge or the debug sidebar shows, through Node-RED's own
 * i18n (the @node-red/util of the Node-RED under test) with the package's runtime catalog: en-US
 * shows lib's English sentence as it is; zh-CN translates, and keeps the specific reason when its
 * translation is a generic sentence (BAD_INPUT), and the 2025 runtime's VISION_UNSUPPORTED has its
 * own sentence in both languages.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { Ax650Error } from '../../lib/errors';
import { visionUnsupported } from '../../lib/vision/for-runtime';
import { errorText, RUNTIME_NS } from '../../nodes/shared/i18n';
import type { NodeAPI } from '../../nodes/red-types';
import { repoRoot } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';

interface NodeRedI18n {
  init(settings: { lang?: string }): void;
  registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
  _(key: string, params?: Record<string, string | number>): string;
  i: { changeLanguage(lang: string): Promise<unknown> };
}

const base = path.dirname(require.resolve(`${nodeRedPackage}/package.json`));
const i18n = (require(require.resolve('@node-red/util', { paths: [base] })) as { i18n: NodeRedI18n }).i18n;
const RED = { _: (key: string, params?: Record<string, string | number>) => i18n._(key, params) } as unknown as NodeAPI;

async function textIn(lang: string, err: Ax650Error): Promise<string> {
  await i18n.i.changeLanguage(lang);
  return errorText(RED, err);
}

const badImage = new Ax650Error('BAD_INPUT', 'msg.image is not a JPEG or PNG image (it starts with "not an"); send the camera frame\'s bytes.', { params: { field: 'msg.image' } });

before(async () => {
  i18n.init({ lang: 'en-US' });
  await i18n.registerMessageCatalog(RUNTIME_NS, path.join(repoRoot, 'locales'), 'ax650-runtime.json');
});

test('en-US: the English sentence from lib, unchanged', async () => {
  assert.equal(await textIn('en-US', badImage), badImage.message);
  const textOnly = visionUnsupported({ modelName: 'Qwen3-1.7B', vision: false, kind: 'axllm' });
  assert.equal(await textIn('en-US', textOnly), textOnly.message);
});

test('zh-CN BAD_INPUT: the translation, then the specific reason', async () => {
  const text = await textIn('zh-CN', badImage);
  assert.match(text, /^输入无效/);
  assert.ok(text.includes(badImage.message), text);
});

test('zh-CN: a translation that carries the details gets no English appended', async () => {
  const full = new Ax650Error('CONTEXT_FULL', 'The prompt needs 900 tokens …', { params: { tokens: 900, prefix: 100, limit: 512, context: 2048 } });
  const text = await textIn('zh-CN', new Ax650Error('TOOL_UNKNOWN', 'The model called the tool "fly", which was not offered (move, grip).', { params: { name: 'fly', tools: 'move, grip' } }));
  assert.equal(text, '模型调用了工具 fly，但它不在提供的工具之中（move, grip）。');
  assert.ok(!(await textIn('zh-CN', full)).includes('The prompt'));
});

test('VISION_UNSUPPORTED: the 2025 runtime and a text-only model have their own sentences, in both languages', async () => {
  const g1 = visionUnsupported({ modelName: 'Qwen3-4B', vision: false, kind: 'main-api' });
  const textOnly = visionUnsupported({ modelName: 'Qwen3-1.7B', vision: false, kind: 'axllm' });
  assert.match(await textIn('en-US', g1), /2025 main_api runtime, which cannot take images at all; load a vision-language model folder .* with the axllm runtime/);
  assert.doesNotMatch(await textIn('en-US', g1), /text-only/);
  assert.match(await textIn('zh-CN', g1), /^已加载的模型 Qwen3-4B 运行在 2025 版 main_api 运行时上/);
  assert.match(await textIn('zh-CN', textOnly), /^已加载的模型 Qwen3-1\.7B 不能识别图片（纯文本模型）/);
});
