import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolCallStream } from '../../lib/client/tool-call-stream';

const MOVE = '<tool_call>\n{"name": "move", "arguments": {"x": 1, "y": -2.5}}\n</tool_call>';
const GRIP = '<tool_call>\n{"name": "grip", "arguments": {"force": "soft"}}\n</tool_call>';

function runSplit(text: string, cuts: number[]): { shown: string; stream: ToolCallStream } {
  const stream = new ToolCallStream();
  let shown = '';
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    shown += stream.push(text.slice(from, cut));
    from = cut;
  }
  return { shown: shown + stream.flush(), stream };
}

describe('tool-call stream parser', () => {
  it('finds Qwen tool calls wherever the deltas split the text, and shows none of their markup', () => {
    const text = 'Moving now.\n' + MOVE + '\n' + GRIP;
    for (let a = 0; a <= text.length; a++) {
      for (const b of [a + 1, a + 7, a + 13]) {
        const { shown, stream } = runSplit(text, [a, Math.min(b, text.length)]);
        assert.equal(shown, 'Moving now.\n\n', `cut at ${a},${b}`);
        assert.deepEqual(
          stream.calls.map((c) => [c.id, c.name, c.arguments]),
          [
            ['call_0', 'move', { x: 1, y: -2.5 }],
            ['call_1', 'grip', { force: 'soft' }],
          ],
        );
        assert.equal(stream.calls[0]?.raw, '{"name": "move", "arguments": {"x": 1, "y": -2.5}}');
      }
    }
  });

  it('one character at a time', () => {
    const { shown, stream } = runSplit(MOVE, Array.from({ length: MOVE.length }, (_, i) => i));
    assert.equal(shown, '');
    assert.equal(stream.calls[0]?.name, 'move');
  });

  it('keeps invalid JSON as raw text with no arguments, and the name when it can be read', () => {
    const bad = '<tool_call>\n{"name": "move", "arguments": {"x": \n</tool_call>';
    const { shown, stream } = runSplit(bad, [5, 20]);
    assert.equal(shown, '');
    assert.deepEqual(stream.calls, [{ id: 'call_0', name: 'move', raw: '{"name": "move", "arguments": {"x":' }]);
  });

  it('text that only looks like the start of a tag is shown once the next delta decides', () => {
    const stream = new ToolCallStream();
    assert.equal(stream.push('a <tool'), 'a ');
    assert.equal(stream.push('box> b'), '<toolbox> b');
    assert.equal(stream.push(' <tool_c'), ' ');
    assert.equal(stream.flush(), '<tool_c');
    assert.deepEqual(stream.calls, []);
  });

  it('a reply that ends inside a block gives a raw call without arguments', () => {
    const { shown, stream } = runSplit('ok <tool_call>\n{"name": "say", "arguments": {}}', [4]);
    assert.equal(shown, 'ok ');
    assert.equal(stream.calls.length, 1);
    assert.equal(stream.calls[0]?.name, 'say');
    assert.equal(stream.calls[0]?.arguments, undefined);
  });

  it('arguments written as a JSON string are parsed too', () => {
    const { stream } = runSplit('<tool_call>{"name": "say", "arguments": "{\\"text\\": \\"hi\\"}"}</tool_call>', []);
    assert.deepEqual(stream.calls[0]?.arguments, { text: 'hi' });
  });
});
