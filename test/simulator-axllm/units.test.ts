import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { resolvePath } from '../../simulator/axllm/config';
import { AxLogger, Progress } from '../../simulator/axllm/logger';
import { outputMaxTokens, parseChatRequest, resolveSampling } from '../../simulator/axllm/request';
import { stoi } from '../../simulator/axllm/serve';
import { StdioBuffer } from '../../simulator/stdout';

function capture(colour: boolean): { log: AxLogger; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const buffer = new StdioBuffer({ write: (b) => void (out += b.toString('utf8')) }, 'full');
  return { log: new AxLogger({ out: buffer, err: (t) => void (err += t), colour, logFile: undefined }), out: () => out, err: () => err };
}

describe('axllm simulator pieces (§1–§5 details)', () => {
  it('§3 TTY: tags coloured, each bar frame erased in place and the bar ended with a newline; pipe: plain, glued', () => {
    const tty = capture(true);
    const bar = new Progress(tty.log, 2);
    bar.update('one');
    bar.update('two');
    bar.finish();
    tty.log.i('Init:1', 'after');
    assert.match(tty.out(), /^\r\x1b\[2K 50% \| #{16} {16} \| {3}1 \/ {3}2 .* one\r\x1b\[2K100% \| #{32} \| .* two\n\x1b\[32m\d\d:\d\d:\d\d\.\d{3} INF\x1b\[0m Init:1 \| after\n$/);
    const pipe = capture(false);
    const plain = new Progress(pipe.log, 1);
    plain.update('only');
    plain.finish();
    pipe.log.w('x:2', 'careful\nsecond line');
    pipe.log.i('x:3', 'next');
    assert.match(pipe.out(), /^\r100% \| #{32} \| .* only\d\d:\d\d:\d\d\.\d{3} INF x:3 \| next\n$/);
    assert.match(pipe.err(), /^\S+ WRN x:2 \| careful\n\S+ WRN x:2 \| second line\n$/, 'the prefix on every line of a multi-line message');
  });

  it('§3 printf output waits in the stdout buffer until the next flushed log line', () => {
    const c = capture(false);
    c.log.printf('Starting server on port 8000...\n');
    assert.equal(c.out(), '');
    c.log.i('run:1', 'Models: x');
    assert.match(c.out(), /^Starting server on port 8000\.\.\.\n\S+ INF run:1 \| Models: x\n$/);
  });

  it('§1 --port goes through std::stoi: leading digits count, garbage throws invalid_argument, overflow out_of_range', () => {
    assert.equal(stoi(' 8080xyz'), 8080);
    assert.equal(stoi('-1'), -1);
    assert.throws(() => stoi('abc'), { typeName: 'std::invalid_argument' });
    assert.throws(() => stoi('99999999999'), { typeName: 'std::out_of_range' });
  });

  it('§2 paths resolve against the model dir, except ./x (CWD) and absolute ones', () => {
    assert.equal(resolvePath('/m', 'a.axmodel'), '/m/a.axmodel');
    assert.equal(resolvePath('/m', './a.axmodel'), path.resolve(process.cwd(), 'a.axmodel'));
    assert.equal(resolvePath('/m', '/abs/a'), '/abs/a');
  });

  it('§4/§5 request fields: thinking under chat_template_kwargs, stop as a string, sampling and max_tokens resolution', () => {
    const req = parseChatRequest({ model: 'm', messages: [], stop: 'x', chat_template_kwargs: { enable_thinking: false }, top_p: 0.9 });
    assert.equal(req.thinking, 'no_think');
    assert.deepEqual(req.stop, ['x']);
    assert.deepEqual(resolveSampling(req, true), { mode: 'sample', temperature: null, top_p: Math.fround(0.9) });
    const cold = parseChatRequest({ model: 'm', temperature: -1 });
    assert.deepEqual(resolveSampling(cold, false), { mode: 'greedy', temperature: -1, top_p: null });
    const clamps: Array<[number, number]> = [];
    assert.equal(outputMaxTokens(parseChatRequest({ model: 'm' }), 0, 0, (a, b) => clamps.push([a, b])), 2048);
    assert.equal(outputMaxTokens(parseChatRequest({ model: 'm' }), 64, 0, (a, b) => clamps.push([a, b])), 64);
    assert.equal(outputMaxTokens(parseChatRequest({ model: 'm', max_tokens: 100 }), 64, 10, (a, b) => clamps.push([a, b])), 10);
    assert.deepEqual(clamps, [[100, 10]]);
    assert.throws(() => parseChatRequest({ model: 'm', stream: 1 }), /type must be boolean, but is number/);
  });
});
