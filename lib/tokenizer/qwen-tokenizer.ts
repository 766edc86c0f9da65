/**
 * The Qwen3 BPE tokenizer plus the Qwen2.5-format chat template, loaded once per process and shared by
 * every session (the vendor script loads both again for each uid, which is where its memory goes).
 * Speed, with ids unchanged: tokenizer.json's vocab and merges are scanned straight into the library's maps
 * (hf-build.ts), whole conversations are encoded by memoised segments (segment-memo.ts) and the stock
 * template is rendered without the jinja interpreter (chat-render.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Ax650Error } from '../errors';
import type { ChatMessage, ToolSpec } from '../runtime/types';
import { directRendererFor } from './chat-render';
import { loadChatTemplate } from './chat-template';
import { buildHfTokenizer } from './hf-build';
import { SegmentEncoder, splittableAddedTokens } from './segment-memo';
import { hasToolTurns, toTemplateMessage } from './template-messages';

export interface QwenTokenizer {
  /** Plain text to ids; special tokens written in the text (`<|im_start|>`) are recognised. No BOS is added. */
  encode(text: string): number[];
  /** Ids to text, special tokens included; incomplete UTF-8 comes out as U+FFFD. */
  decode(ids: number[]): string;
  /** `<|im_end|>` for Qwen3. */
  readonly eosId: number;
  /** -1: Qwen3 has no BOS token (the vendor answers -1 for None). */
  readonly bosId: number;
  /** `tools` (non-empty) renders the template's tools block into the system turn. */
  applyChatTemplate(messages: ChatMessage[], addGenerationPrompt: boolean, tools?: readonly ToolSpec[]): string;
}

function tokenIdOf(tokenizer: { token_to_id(token: string): number | undefined }, config: Record<string, unknown>, key: 'bos_token' | 'eos_token'): number {
  const value = config[key];
  const content = typeof value === 'string' ? value : typeof value === 'object' && value !== null ? (value as { content?: unknown }).content : undefined;
  if (typeof content !== 'string') return -1;
  return tokenizer.token_to_id(content) ?? -1;
}

function notAnObject(file: string): Ax650Error {
  return new Ax650Error('MODEL_FILES_MISSING', `Tokenizer file is not a JSON object: ${file}`, { params: { file } });
}

export async function readText(file: string): Promise<string> {
  try {
    // One decode of the whole buffer: readFile(file, 'utf8') decodes chunk by chunk through a StringDecoder and
    // leaves a rope that JSON.parse must flatten, measurably slower for the 11 MB tokenizer.json.
    return (await readFile(file)).toString('utf8');
  } catch (e) {
    throw new Ax650Error('MODEL_FILES_MISSING', `Tokenizer file not found: ${file}`, { params: { file }, cause: e });
  }
}

export async function readJson(file: string): Promise<Record<string, unknown>> {
  const value: unknown = JSON.parse(await readText(file));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw notAnObject(file);
  return value as Record<string, unknown>;
}

/**
 * Loads `<modelDir>/qwen3_tokenizer/{tokenizer.json,tokenizer_config.json}` and the chat template of
 * `<modelDir>/qwen2.5_tokenizer/` (or the bundled Qwen2.5 template). Rejects with MODEL_FILES_MISSING.
 */
export async function loadQwenTokenizer(modelDir: string): Promise<QwenTokenizer> {
  const dirStat = await stat(modelDir).catch(() => undefined);
  if (!dirStat?.isDirectory()) {
    throw new Ax650Error('MODEL_FILES_MISSING', `Model folder not found: ${modelDir}`, { params: { file: modelDir } });
  }
  const folder = path.join(modelDir, 'qwen3_tokenizer');
  const tokenizerFile = path.join(folder, 'tokenizer.json');
  const [text, config, source] = await Promise.all([
    readText(tokenizerFile),
    readJson(path.join(folder, 'tokenizer_config.json')),
    loadChatTemplate(modelDir),
  ]);
  return buildQwenTokenizer(tokenizerFile, text, config, source.template);
}

/** Builds the tokenizer from a tokenizer.json text (`file` names it in errors), its tokenizer_config and a chat template. */
export async function buildQwenTokenizer(tokenizerFile: string, text: string, config: Record<string, unknown>, templateSource: string): Promise<QwenTokenizer> {
  // Both packages ship ESM-only typings; under module node16 a dynamic import stays a real import().
  const [{ Tokenizer }, { Template }] = await Promise.all([import('@huggingface/tokenizers'), import('@huggingface/jinja')]);
  const built = buildHfTokenizer(Tokenizer, text, config);
  if (!built) throw notAnObject(tokenizerFile);
  const { tokenizer } = built;
  const encodePlain = (input: string): number[] => tokenizer.encode(input).ids;
  const addedTokens = splittableAddedTokens(built.json);
  const segments = addedTokens && new SegmentEncoder(addedTokens, encodePlain);
  const template = new Template(templateSource);
  const direct = directRendererFor(templateSource);
  const eosToken = config['eos_token'] ?? '';
  const eosId = tokenIdOf(tokenizer, config, 'eos_token');
  const bosId = tokenIdOf(tokenizer, config, 'bos_token');
  return {
    eosId,
    bosId,
    encode: segments ? (input) => segments.encode(input) : encodePlain,
    // The JS library throws on [] where transformers returns "" (the runtime can send an empty group).
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode(ids)),
    applyChatTemplate: (messages, addGenerationPrompt, tools) => {
      const withTools = tools !== undefined && tools.length > 0;
      const plain = !withTools && !hasToolTurns(messages) ? direct?.(messages, addGenerationPrompt) : undefined;
      return (
        plain ??
        template.render({
          messages: messages.map(toTemplateMessage),
          ...(withTools ? { tools: tools.map((t) => ({ ...t })) } : {}),
          add_generation_prompt: addGenerationPrompt,
          bos_token: '',
          eos_token: eosToken,
        })
      );
    },
  };
}
