/**
 * What the tokenizer tests share: a second, independent Qwen3 tokenizer (@lenml/tokenizers, a fork of
 * transformers.js) to check ids against, and a tiny JSON client for the service.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { TokenizerLoader } from '@lenml/tokenizers';
import { QWEN3_TOKENIZER_FILES } from '../helpers/tokenizer-dir';

export interface ReferenceTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

export function loadReferenceTokenizer(): ReferenceTokenizer {
  const read = (name: string): object => JSON.parse(readFileSync(path.join(QWEN3_TOKENIZER_FILES, name), 'utf8')) as object;
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json') });
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    // Like the library under test, this one throws on [] where transformers returns "".
    decode: (ids) => (ids.length === 0 ? '' : tok.decode(ids, { skip_special_tokens: false })),
  };
}

export interface RawAnswer {
  status: number;
  contentType: string | null;
  text: string;
  json: Record<string, unknown>;
}

export async function call(base: string, method: 'GET' | 'POST', pathname: string, body?: unknown): Promise<RawAnswer> {
  const res = await fetch(base + pathname, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), text, json: JSON.parse(text) as Record<string, unknown> };
}

export function ids(value: unknown): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw new TypeError(`not an id list: ${JSON.stringify(value)}`);
  return value as number[];
}
