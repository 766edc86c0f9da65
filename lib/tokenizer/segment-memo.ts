/**
 * Encoding a chat by its segments. The vendor protocol re-renders and re-encodes the WHOLE conversation on
 * every /encode and /reset (qwen3_tokenizer_uid.py `encode`/`reset`), so without help each turn costs as much
 * as the conversation is long. @huggingface/tokenizers first cuts the text at every added token
 * (`<|im_start|>`, `<|im_end|>`, `<think>`, …: `Tokenizer.encode_text`, DictionarySplitter, longest match
 * leftmost) and encodes each piece between them on its own, so a piece seen before has the same ids again:
 * they are memoised in a bounded LRU shared by all sessions, and a turn costs about its new text.
 * That independence holds only under the conditions `splittableAddedTokens` checks; otherwise the caller
 * encodes whole texts.
 */

/** Characters of memoised segments kept (about 2 bytes per character plus the ids): a few MB. */
export const DEFAULT_MEMO_CHARS = 2_000_000;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The added tokens (content → id) at which a text can be cut and its pieces encoded apart, or undefined when
 * that would not give the library's ids: an added token that is normalized (then it is matched after the
 * normalizer, in a second pass) or strips its neighbours' spaces (lstrip/rstrip change the pieces next to it);
 * a post-processor other than ByteLevel (which returns the tokens as they are; TemplateProcessing would add
 * tokens per call); a Metaspace pre-tokenizer (it treats the first piece of a text differently).
 */
export function splittableAddedTokens(json: Record<string, unknown>): Map<string, number> | undefined {
  const post = record(json['post_processor']);
  if (json['post_processor'] !== null && post?.['type'] !== 'ByteLevel') return undefined;
  if (JSON.stringify(json['pre_tokenizer'] ?? null).includes('"Metaspace"')) return undefined;
  const list = json['added_tokens'];
  if (!Array.isArray(list)) return undefined;
  const tokens = new Map<string, number>();
  for (const entry of list) {
    const t = record(entry);
    if (!t || typeof t['content'] !== 'string' || t['content'] === '' || !Number.isSafeInteger(t['id'])) return undefined;
    const special = t['special'] === true;
    // AddedToken's defaults: normalized = !special, lstrip = rstrip = false.
    const normalized = typeof t['normalized'] === 'boolean' ? t['normalized'] : !special;
    if (normalized || t['lstrip'] === true || t['rstrip'] === true) return undefined;
    tokens.set(t['content'], t['id'] as number);
  }
  return tokens;
}

/** A least-recently-used map of segment → ids, bounded by the total length of the segments. */
export class SegmentMemo {
  private readonly entries = new Map<string, readonly number[]>();
  private chars = 0;

  constructor(readonly maxChars: number = DEFAULT_MEMO_CHARS) {}

  get size(): number {
    return this.entries.size;
  }

  get totalChars(): number {
    return this.chars;
  }

  get(segment: string): readonly number[] | undefined {
    const ids = this.entries.get(segment);
    if (ids !== undefined) {
      this.entries.delete(segment);
      this.entries.set(segment, ids);
    }
    return ids;
  }

  set(segment: string, ids: readonly number[]): void {
    // One huge prompt must not flush everything else.
    if (segment.length > this.maxChars / 8 || this.entries.has(segment)) return;
    this.entries.set(segment, ids);
    this.chars += segment.length;
    for (const [oldest] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Encodes text piece by piece between added tokens, each finished piece through `encodePlain` once and then from the memo. */
export class SegmentEncoder {
  private readonly splitter: RegExp | undefined;

  constructor(
    private readonly addedTokens: ReadonlyMap<string, number>,
    private readonly encodePlain: (text: string) => number[],
    readonly memo: SegmentMemo = new SegmentMemo(),
  ) {
    // Longest first, so that at each position the alternation takes the longest match, like the library's trie.
    const contents = [...addedTokens.keys()].sort((a, b) => b.length - a.length);
    this.splitter = contents.length === 0 ? undefined : new RegExp(contents.map(escapeRegExp).join('|'), 'g');
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let from = 0;
    if (this.splitter) {
      for (const match of text.matchAll(this.splitter)) {
        this.pushPiece(ids, text.slice(from, match.index), true);
        ids.push(this.addedTokens.get(match[0]) as number);
        from = match.index + match[0].length;
      }
    }
    // The tail after the last added token is not kept: a piece that ends at `<|im_end|>` is a finished turn, but a
    // tail may still be growing (the runtime counts a streamed reply's tokens after every delta for max_tokens).
    this.pushPiece(ids, text.slice(from), false);
    return ids;
  }

  private pushPiece(ids: number[], piece: string, keep: boolean): void {
    if (piece === '') return;
    let pieceIds = this.memo.get(piece);
    if (pieceIds === undefined) {
      pieceIds = this.encodePlain(piece);
      if (keep) this.memo.set(piece, pieceIds);
    }
    for (const id of pieceIds) ids.push(id);
  }
}
