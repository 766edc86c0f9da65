import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { templateFromConfig } from '../../lib/tokenizer/chat-template';
import { pyJsonDumps } from '../../lib/tokenizer/py-json';
import { removeThink, withNoThink } from '../../lib/tokenizer/session';
import { SessionStore } from '../../lib/tokenizer/session-store';

describe('vendor string rules', () => {
  it('remove_think drops every tag and strips only newlines at both ends', () => {
    assert.equal(removeThink('<think>\n\n</think>\n\nHi'), 'Hi');
    assert.equal(removeThink('<think>\nplan\n</think>\n\n4\n'), 'plan\n\n\n4');
    assert.equal(removeThink('  <think>x</think> y \n'), '  x y ');
    assert.equal(removeThink('a<think>b<think>c</think>'), 'abc');
  });

  it('appends /no_think only when the prompt does not already end with it', () => {
    assert.equal(withNoThink('hi'), 'hi/no_think');
    assert.equal(withNoThink('hi/no_think'), 'hi/no_think');
    assert.equal(withNoThink('hi /no_think '), 'hi /no_think /no_think');
    assert.equal(withNoThink(''), '/no_think');
  });
});

describe('pyJsonDumps', () => {
  it('writes what Python json.dumps writes', () => {
    assert.equal(pyJsonDumps({ token_ids: [1, 2], diff: [] }), '{"token_ids": [1, 2], "diff": []}');
    assert.equal(pyJsonDumps({ text: 'a"b\\c\n\t\u0001\u007f' }), '{"text": "a\\"b\\\\c\\n\\t\\u0001\\u007f"}');
    assert.equal(pyJsonDumps({ text: '龘😀' }), '{"text": "\\u9f98\\ud83d\\ude00"}');
    assert.throws(() => pyJsonDumps(0.5));
  });
});

describe('SessionStore', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const store = new SessionStore<number>(2);
    assert.deepEqual(store.add('a', 1), []);
    store.add('b', 2);
    assert.equal(store.get('a'), 1);
    assert.deepEqual(store.add('c', 3), ['b']);
    assert.equal(store.get('b'), undefined);
    assert.equal(store.size, 2);
    assert.throws(() => new SessionStore(0), RangeError);
  });
});

describe('templateFromConfig', () => {
  it('reads a string template or the "default" one of a list', () => {
    assert.equal(templateFromConfig({ chat_template: 'T' }), 'T');
    assert.equal(templateFromConfig({ chat_template: [{ name: 'tool_use', template: 'U' }, { name: 'default', template: 'D' }] }), 'D');
    assert.equal(templateFromConfig({}), undefined);
    assert.equal(templateFromConfig(null), undefined);
  });
});
