/**
 * axllm's own tokenizer export (`qwen3_tokenizer.txt`, written by the vendor's convert_tokenizer.py,
 * type 3 "HUGGINGFACE" = byte-level BPE) turned back into a Hugging Face tokenizer.json, so the
 * package can count tokens for a folder that ships nothing else. The layout: `430 3` (magic, type);
 * `<specials> <stops> <prefix>` counts; those ids on one line; `<vocab> <merges> [<family>]`; one token per
 * line (id = line index, `b64:` marks a base64 token); one `left right` merge per line. Only the Qwen
 * pre-tokenizer family (0/1) is rebuilt; other families and types give null (the caller then asks for a
 * tokenizer.json).
 */

const MAGIC = '430';
const HUGGINGFACE = '3';

/** Qwen2/Qwen3's tokenizer.json pieces around the BPE model (identical in both). */
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
const QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function token(line: string): string {
  return line.startsWith('b64:') ? Buffer.from(line.slice(4), 'base64').toString('utf8') : line;
}

function ints(line: string | undefined): number[] | null {
  if (line === undefined) return null;
  const parts = line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number);
  return parts.every((n) => Number.isInteger(n) && n >= 0) ? parts : null;
}

/** The tokenizer.json text for an export, or null when it is not a Qwen byte-level BPE export this can read. */
export function tokenizerJsonFromAxllmTxt(text: string): string | null {
  const lines = text.split('\n');
  const [magic, type] = (lines[0] ?? '').trim().split(/\s+/);
  if (magic !== MAGIC || type !== HUGGINGFACE) return null;
  const counts = ints(lines[1]);
  const ids = ints(lines[2]);
  const sizes = ints(lines[3]);
  if (!counts || counts.length !== 3 || !ids || !sizes || sizes.length < 2) return null;
  const [nSpecial = 0] = counts;
  const [nVocab = 0, nMerges = 0, family = 1] = sizes;
  if (family > 1 || lines.length < 4 + nVocab) return null;
  const vocabLines = lines.slice(4, 4 + nVocab);
  const vocab: Record<string, number> = {};
  vocabLines.forEach((l, id) => {
    const t = token(l);
    if (!(t in vocab)) vocab[t] = id;
  });
  const merges: string[][] = [];
  for (const l of lines.slice(4 + nVocab, 4 + nVocab + nMerges)) {
    if (l === '' || l.startsWith('#version')) continue;
    const [left, right] = l.split(' ');
    if (left === undefined || right === undefined) return null;
    merges.push([token(left), token(right)]);
  }
  const specials = ids.slice(0, nSpecial).filter((id) => id < vocabLines.length);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((id) => ({ id, content: token(vocabLines[id] ?? ''), single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated', invert: false }, BYTE_LEVEL] },
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  return JSON.stringify(json);
}
