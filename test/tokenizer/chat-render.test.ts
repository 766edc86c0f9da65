import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { ChatMessage } from '../../lib/runtime/types';
import { directRendererFor, type DirectRenderer } from '../../lib/tokenizer/chat-render';
import { BUNDLED_TEMPLATE_CONFIG, templateFromConfig } from '../../lib/tokenizer/chat-template';
import { LISTED, prng } from './corpus';

const ROLES: ChatMessage['role'][] = ['system', 'user', 'assistant'];

describe('direct rendering of the Qwen2.5 chat template', () => {
  let source: string;
  let direct: DirectRenderer;
  let jinja: (messages: unknown[], addGenerationPrompt: boolean) => string;

  before(async () => {
    const { Template } = await import('@huggingface/jinja');
    source = templateFromConfig(JSON.parse(readFileSync(BUNDLED_TEMPLATE_CONFIG, 'utf8'))) ?? '';
    const template = new Template(source);
    jinja = (messages, addGenerationPrompt) => template.render({ messages, add_generation_prompt: addGenerationPrompt, bos_token: '', eos_token: '<|im_end|>' });
    const renderer = directRendererFor(source);
    assert.ok(renderer, 'the bundled template is the known one');
    direct = renderer;
  });

  it('writes what jinja writes for 600 conversations of every shape', () => {
    const rnd = prng(2507);
    const contents = [...LISTED, '', '<|im_end|>', '{{ raw }}{% if %}', "quote ' and \" and \\"];
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
    const shapes: ChatMessage[][] = [[], [{ role: 'system', content: '' }], [{ role: 'assistant', content: 'first' }]];
    for (let i = 0; i < 600; i++) {
      const n = Math.floor(rnd() * 9);
      shapes.push(Array.from({ length: n }, () => ({ role: pick(ROLES), content: pick(contents) })));
    }
    const wrong = shapes.flatMap((messages) =>
      [true, false].filter((agp) => direct(messages, agp) !== jinja(messages, agp)).map((agp) => ({ messages, agp })),
    );
    assert.deepEqual(wrong, []);
  });

  it('leaves other roles and non-string content to jinja, and other templates alone', () => {
    assert.equal(direct([{ role: 'tool', content: 'x' } as unknown as ChatMessage], true), undefined);
    assert.equal(direct([{ role: 'user', content: 7 } as unknown as ChatMessage], true), undefined);
    assert.equal(directRendererFor(source + ' '), undefined);
    assert.equal(directRendererFor('{{ messages }}'), undefined);
  });
});
