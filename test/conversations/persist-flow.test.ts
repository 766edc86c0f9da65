/**
 * Conversations kept in a file context store survive a restart of Node-RED (issue 5): two turns,
 * Node-RED stopped and started again on the same user directory, and the third turn's reset
 * prefills the whole earlier history (read from the simulator's log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir, TEST_KIND } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import { loadQwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { asLivedTurn } from '../../lib/tokenizer/session';
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/runtime/config';
import { freeLoopbackPort, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';

function flow(modelDir: string, simLog: string, ports: { runtime: number; tokenizer: number }): unknown[] {
  return [
    { id: 't', type: 'tab', label: 'chat' },
    {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, runtimePort: ports.runtime, tokenizerPort: ports.tokenizer, persist: 'file',
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '12', AX650_SIM_LOG: simLog }), startOn: 'deploy',
    },
    { id: 'in', z: 't', type: 'http in', url: '/ask', method: 'post', x: 100, y: 100, wires: [['prep']] },
    {
      id: 'prep', z: 't', type: 'change', x: 200, y: 100, wires: [['gen']],
      rules: [
        { t: 'set', p: 'conversation', pt: 'msg', to: 'payload.conversation', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.prompt', tot: 'msg' },
      ],
    },
    { id: 'gen', z: 't', type: 'ax650-generate', runtime: 'rt', x: 300, y: 100, wires: [[], ['shape']] },
    {
      id: 'shape', z: 't', type: 'change', x: 400, y: 100, wires: [['out']],
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"text": payload, "stats": stats}', tot: 'jsonata' }],
    },
    { id: 'out', z: 't', type: 'http response', x: 500, y: 100, wires: [] },
  ];
}

interface Reply { text: string; stats: { historyDropped?: boolean; doneReason: string } }

async function ask(url: string, prompt: string): Promise<Reply> {
  const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, conversation: 'robot-1' }) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Reply;
}

test('a conversation in a file context store continues after Node-RED restarts', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-persist-'));
  const userDir = path.join(root, 'user');
  const modelDir = path.join(root, 'model');
  const simLog = path.join(root, 'sim.log');
  await createKindModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  const settings = { contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem' } } };
  const turns: Array<{ prompt: string; reply: string }> = [];
  try {
    let nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows: flow(modelDir, simLog, ports), settings });
    try {
      for (const prompt of ['My name is Ada and I build robots.', 'What do I build?']) {
        const r = await ask(nr.url, prompt);
        assert.equal(r.stats.doneReason, 'stop');
        turns.push({ prompt, reply: r.text });
      }
    } finally {
      await nr.stop();
    }
    const before = (await readFile(simLog, 'utf8')).trim().split('\n').length;
    nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows: flow(modelDir, simLog, ports), settings });
    try {
      const r = await ask(nr.url, 'And what is my name?');
      assert.equal(r.stats.historyDropped, undefined);
    } finally {
      await nr.stop();
    }
    const after = (await readFile(simLog, 'utf8')).trim().split('\n').slice(before).map((l) => JSON.parse(l) as { event: string; kind?: string; tokens?: number; path?: string; body?: unknown });
    if (TEST_KIND === 'axllm') {
      // A stateless runtime: the saved history goes with the next request, whole.
      const chat = after.find((e) => e.event === 'request' && e.path === '/v1/chat/completions')?.body as { messages: Array<{ role: string; content: string }> };
      const sent = chat.messages.slice(1, -1).map((m) => m.content);
      assert.deepEqual(sent, turns.flatMap((t) => [t.prompt, t.reply]));
      return;
    }
    const resets = after.filter((e) => e.event === 'prefill' && e.kind === 'reset');
    const tok = await loadQwenTokenizer(modelDir);
    const history = turns.flatMap((t) => [asLivedTurn({ role: 'user', content: t.prompt }), asLivedTurn({ role: 'assistant', content: t.reply })]);
    const expected = tok.encode(tok.applyChatTemplate([{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, ...history], true)).length - 3;
    assert.ok(resets.some((e) => e.tokens === expected), `a reset prefilled the ${expected} tokens of the saved history (resets: ${resets.map((e) => e.tokens).join(', ')})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
