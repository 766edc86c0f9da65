/**
 * Builds the @huggingface/tokenizers `Tokenizer` for a tokenizer.json text. For a BPE model the library is
 * constructed from the file with an empty vocab and merges (cheap) and then given the Maps scanned by
 * bpe-json-scan.ts, set up exactly as its BPE and Tokenizer constructors would have set them up (0.2.0,
 * dist/tokenizers.mjs `BPE` constructor and the added-token loop of `Tokenizer`). When the file or the model
 * object is not in the expected shape, the library builds everything from `JSON.parse` as usual.
 */
import { scanBpeJson } from './bpe-json-scan';

/** The part of the library's Tokenizer this package uses (its own typings are ESM-only). */
export interface HfTokenizer {
  encode(text: string): { ids: number[] };
  decode(ids: number[]): string;
  token_to_id(token: string): number | undefined;
  readonly model: unknown;
}

export type HfTokenizerClass = new (json: object, config: object) => HfTokenizer;

export interface BuiltTokenizer {
  tokenizer: HfTokenizer;
  /** The parsed tokenizer.json; on the fast path its `model.vocab` and `model.merges` are empty. */
  json: Record<string, unknown>;
  /** Whether the scanned Maps were used. */
  fast: boolean;
}

interface BpeModelState {
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  bpe_ranks: Map<string, number>;
  unk_token_id?: number;
  unk_token?: string | null;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isEmptyBpeModelJson(json: Record<string, unknown>): boolean {
  const model = record(json['model']);
  const vocab = record(model?.['vocab']);
  const merges = model?.['merges'];
  return model?.['type'] === 'BPE' && vocab !== undefined && Object.keys(vocab).length === 0 && Array.isArray(merges) && merges.length === 0;
}

function hasBpeState(model: unknown): model is BpeModelState {
  // The library's models extend its `Callable`, whose constructor returns a function object.
  if (typeof model !== 'function' && (typeof model !== 'object' || model === null)) return false;
  const m = model as unknown as Record<string, unknown>;
  return Array.isArray(m['vocab']) && m['tokens_to_ids'] instanceof Map && m['bpe_ranks'] instanceof Map;
}

/**
 * Whether this version of the library still keeps its BPE state the way fastBuild fills it in: ranks keyed by
 * `JSON.stringify([a, b])`, the vocab as a Map and an array. Checked on a three-token model (well under a millisecond),
 * so a library update that changes this turns the fast path off instead of mis-tokenising.
 */
function libraryLayoutMatches(Tokenizer: HfTokenizerClass): boolean {
  const probe = new Tokenizer(
    { added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: 'BPE', unk_token: null, vocab: { a: 0, b: 1, ab: 2 }, merges: [['a', 'b']] } },
    {},
  );
  const model = probe.model;
  return (
    hasBpeState(model) &&
    JSON.stringify([...model.bpe_ranks]) === JSON.stringify([[JSON.stringify(['a', 'b']), 0]]) &&
    JSON.stringify([...model.tokens_to_ids]) === '[["a",0],["b",1],["ab",2]]' &&
    JSON.stringify(model.vocab) === '["a","b","ab"]' &&
    JSON.stringify(probe.encode('ab').ids) === '[2]'
  );
}

function fastBuild(Tokenizer: HfTokenizerClass, text: string, config: object): BuiltTokenizer | undefined {
  if (!libraryLayoutMatches(Tokenizer)) return undefined;
  const scanned = scanBpeJson(text);
  if (!scanned) return undefined;
  let json: Record<string, unknown> | undefined;
  try {
    json = record(JSON.parse(scanned.rest));
  } catch {
    return undefined;
  }
  if (!json || !isEmptyBpeModelJson(json)) return undefined;
  // With a token or an id twice, the library's Map iteration order (integer-like keys first) would decide the array.
  const vocab = scanned.tokens;
  if (!vocab) return undefined;
  const tokenizer = new Tokenizer(json, config);
  const model = tokenizer.model;
  if (!hasBpeState(model) || model.bpe_ranks.size !== 0) return undefined;
  // With an empty vocab, what the constructor put in the model's Map and array are exactly the added tokens.
  const added = model.tokens_to_ids;
  const addedVocab = model.vocab;
  model.unk_token_id = model.unk_token === undefined || model.unk_token === null ? undefined : scanned.vocab.get(model.unk_token);
  for (const [token, id] of added) scanned.vocab.set(token, id);
  addedVocab.forEach((token, id) => (vocab[id] = token));
  model.tokens_to_ids = scanned.vocab;
  model.vocab = vocab;
  model.bpe_ranks = scanned.ranks;
  return { tokenizer, json, fast: true };
}

/**
 * Builds the tokenizer for `text` (a tokenizer.json) and `config` (its tokenizer_config.json); undefined when the
 * text is JSON but not an object. `fast: false` skips the scan (tests compare both ways). Throws SyntaxError for invalid JSON.
 */
export function buildHfTokenizer(Tokenizer: HfTokenizerClass, text: string, config: object, opts: { fast?: boolean } = {}): BuiltTokenizer | undefined {
  const built = opts.fast === false ? undefined : fastBuild(Tokenizer, text, config);
  if (built) return built;
  const json = record(JSON.parse(text));
  return json && { tokenizer: new Tokenizer(json, config), json, fast: false };
}
