/**
 * A build of axllm without PR56 gets tools as text (lib/client/axllm-text-tools.ts). The runtime renders
 * each message with Qwen's plain template (`<|im_start|>role\ncontent<|im_end|>\n`), so what the model
 * reads must be, text for text, what the template writes with native tools: the golden transformers text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatBody } from '../../lib/client/axllm-protocol';
import type { ChatMessage } from '../../lib/runtime/types';
import { CALL_TURN_TEXT, RESPONSE_TEXT, RESULTS, SYSTEM, SYSTEM_TEXT, TOOLS } from '../helpers/qwen-tools-golden';

const SAMPLING = { temperature: 0, topK: 1, topP: 1, repetitionPenalty: 1 };

function rendered(messages: Array<{ role: string; content: unknown }>): string {
  return messages.map((m) => `<|im_start|>${m.role}\n${String(m.content)}<|im_end|>\n`).join('');
}

const HISTORY: ChatMessage[] = [
  { role: 'user', content: 'Move to x=1' },
  { role: 'assistant', content: '', toolCalls: [{ id: 'call_0', name: 'move', arguments: { x: 1 }, raw: '{"x": 1}' }] },
  ...RESULTS,
];

test('text tools: the system turn, the call and the grouped results read exactly as the template writes them', () => {
  const body = chatBody('qwen3', { prompt: '', system: SYSTEM, history: HISTORY, sampling: SAMPLING, think: false, tools: TOOLS }, false) as { messages: Array<{ role: string; content: unknown }>; tools?: unknown };
  assert.equal(body.tools, undefined, 'no tools field: a build without PR56 ignores it');
  assert.equal(rendered(body.messages), SYSTEM_TEXT + '<|im_start|>user\nMove to x=1<|im_end|>\n' + CALL_TURN_TEXT + RESPONSE_TEXT);
});

test('native tools: the same transcript in PR56 shape', () => {
  const body = chatBody('qwen3', { prompt: '', system: SYSTEM, history: HISTORY, sampling: SAMPLING, think: false, tools: TOOLS }) as { messages: Array<{ role: string; content: unknown; tool_calls?: unknown }>; tools?: unknown };
  assert.deepEqual(body.tools, TOOLS);
  assert.equal(body.messages[0]?.content, SYSTEM);
  assert.deepEqual(body.messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'tool']);
  assert.equal(body.messages[2]?.content, null);
});

test('text tools without a system prompt: the tools block alone, as the template writes it', () => {
  const body = chatBody('qwen3', { prompt: 'Move', system: '', history: [], sampling: SAMPLING, think: false, tools: TOOLS }, false) as { messages: Array<{ role: string; content: unknown }> };
  assert.equal(rendered(body.messages.slice(0, 1)), SYSTEM_TEXT.replace(`${SYSTEM}\n\n`, ''));
});
