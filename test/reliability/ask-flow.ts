/**
 * The smallest flow a robot builder deploys, for the whole-Node-RED tests: a simulator runtime on
 * the given folder and ports, and POST /ask → ax650-generate → the reply as the HTTP response.
 */
import assert from 'node:assert/strict';
import { simulatorTestEnv } from '../../simulator/env';

/**
 * With `conversation`, every ask continues one conversation. The 2025 runtime then holds that
 * conversation when the reply has come, so no reset prefill runs (and writes its log) after it: a test
 * that kills Node-RED right after an ask kills it while the runtime is idle, not mid-write (a runtime
 * writing to the dead Node-RED's pipe dies of it, as a real one would of SIGPIPE).
 */
export function askFlow(modelDir: string, ports: { runtime: number; tokenizer: number }, opts: { conversation?: string } = {}): Array<Record<string, unknown>> {
  const conversation = opts.conversation === undefined ? [] : [{ id: 'conv', z: 't', type: 'change', rules: [{ t: 'set', p: 'conversation', pt: 'msg', to: opts.conversation, tot: 'str' }], x: 200, y: 100, wires: [['gen']] }];
  return [
    { id: 't', type: 'tab', label: 'ask' },
    { id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, runtimePort: ports.runtime, tokenizerPort: ports.tokenizer, startOn: 'deploy', simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '8' }) },
    { id: 'in', z: 't', type: 'http in', url: '/ask', method: 'post', x: 100, y: 100, wires: [[conversation.length > 0 ? 'conv' : 'gen']] },
    ...conversation,
    { id: 'gen', z: 't', type: 'ax650-generate', runtime: 'rt', x: 300, y: 100, wires: [[], ['out']] },
    { id: 'out', z: 't', type: 'http response', x: 500, y: 100, wires: [] },
  ];
}

/** Posts a prompt to the flow and returns the reply; fails the test on anything but 200 with text. */
export async function ask(url: string, prompt: string): Promise<string> {
  const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: prompt, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.ok(text.length > 0, 'a reply');
  return text;
}
