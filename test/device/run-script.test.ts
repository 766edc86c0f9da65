import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { findBinary, findRunScript, parseRunScript, scriptBinaryFor } from '../../lib/device/run-script';
import { tempDir } from './helpers';

/** `gregm123456/Qwen3-4B` run_qwen3_4b_int8_ctx_axcl_x86_api.sh as quoted in reference §1.3. */
const VENDOR_X86_API = `./main_api_axcl_x86 \\
--system_prompt "You are Qwen, created by Alibaba Cloud. You are a helpful assistant." \\
--template_filename_axmodel "qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel" \\
--axmodel_num 36 \\
--url_tokenizer_model "http://127.0.0.1:12345" \\
--filename_post_axmodel qwen3-4b-ax650/qwen3_post.axmodel \\
--filename_tokens_embed qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin \\
--tokens_embed_num 151936 \\
--tokens_embed_size 2560 \\
--use_mmap_load_embed 1 \\
--devices 0,1
`;

test('the reference §1.3 script: binary and every flag, quotes removed', () => {
  assert.deepEqual(parseRunScript(VENDOR_X86_API), {
    binary: './main_api_axcl_x86',
    flags: {
      system_prompt: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.',
      template_filename_axmodel: 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel',
      axmodel_num: '36',
      url_tokenizer_model: 'http://127.0.0.1:12345',
      filename_post_axmodel: 'qwen3-4b-ax650/qwen3_post.axmodel',
      filename_tokens_embed: 'qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin',
      tokens_embed_num: '151936',
      tokens_embed_size: '2560',
      use_mmap_load_embed: '1',
      devices: '0,1',
    },
  });
});

test('a hand-edited aarch64 copy: shebang, comments, cd, env prefix, single quotes, escaped quotes, CRLF', () => {
  const script = [
    '#!/bin/bash',
    '# copied from the x86 script, binary changed for the Pi',
    'cd "$(dirname "$0")"',
    'export LD_LIBRARY_PATH=/usr/lib/axcl',
    'AXCL_LOG=1 ./main_api_axcl_aarch64 \\',
    "  --system_prompt 'You are a robot named \"Rex\".' \\",
    '  --system_prompt2 "say \\"hi\\"" \\',
    '  --axmodel_num=28 --use_mmap_load_embed 1 --devices 0   # one card',
  ].join('\r\n');
  assert.deepEqual(parseRunScript(script), {
    binary: './main_api_axcl_aarch64',
    flags: { system_prompt: 'You are a robot named "Rex".', system_prompt2: 'say "hi"', axmodel_num: '28', use_mmap_load_embed: '1', devices: '0' },
  });
});

test('a script that starts nothing is CONFIG_INVALID', () => {
  assert.throws(() => parseRunScript('#!/bin/sh\necho hello\n'), { code: 'CONFIG_INVALID' });
});

test('findRunScript prefers this CPU\'s api script, then any run_*api*.sh; findBinary by CPU', async (t) => {
  const dir = tempDir(t);
  const touch = (n: string): void => writeFileSync(path.join(dir, n), '');
  assert.equal(await findRunScript(dir, 'arm64'), null);
  touch('run_qwen3_4b_int8_ctx_ax650.sh');
  touch('run_qwen3_4b_int8_ctx_axcl_aarch64.sh');
  assert.equal(await findRunScript(dir, 'arm64'), null);
  touch('run_qwen3_4b_int8_ctx_axcl_x86_api.sh');
  assert.equal(await findRunScript(dir, 'arm64'), path.join(dir, 'run_qwen3_4b_int8_ctx_axcl_x86_api.sh'));
  touch('run_qwen3_4b_int8_ctx_axcl_aarch64_api.sh');
  assert.equal(await findRunScript(dir, 'arm64'), path.join(dir, 'run_qwen3_4b_int8_ctx_axcl_aarch64_api.sh'));
  assert.equal(await findRunScript(dir, 'x64'), path.join(dir, 'run_qwen3_4b_int8_ctx_axcl_x86_api.sh'));
  assert.equal(await findRunScript(path.join(dir, 'nope'), 'arm64'), null);

  assert.equal(await findBinary(dir, 'arm64'), null);
  touch('main_api_axcl_aarch64');
  mkdirSync(path.join(dir, 'main_api_axcl_x86'));
  assert.equal(await findBinary(dir, 'arm64'), path.join(dir, 'main_api_axcl_aarch64'));
  assert.equal(await findBinary(dir, 'x64'), null, 'a directory is not a binary');
  assert.equal(await findBinary(dir, 'riscv64'), null);
});

test('a run script naming the other CPU\'s API binary runs this CPU\'s when the folder has it (vendor ships only the x86 _api.sh)', async (t) => {
  const dir = tempDir(t);
  assert.equal(await scriptBinaryFor('./main_api_axcl_x86', dir, 'arm64'), 'main_api_axcl_x86', 'kept when the aarch64 binary is absent');
  writeFileSync(path.join(dir, 'main_api_axcl_aarch64'), '#!/bin/sh\n');
  assert.equal(await scriptBinaryFor('./main_api_axcl_x86', dir, 'arm64'), 'main_api_axcl_aarch64');
  assert.equal(await scriptBinaryFor('./main_api_axcl_aarch64', dir, 'arm64'), 'main_api_axcl_aarch64');
  assert.equal(await scriptBinaryFor('./my_runtime_wrapper', dir, 'arm64'), 'my_runtime_wrapper');
});
