/**
 * Reads the two big parts of a BPE tokenizer.json (`model.vocab`, 151,643 entries for Qwen3, and `model.merges`,
 * 151,387 pairs) straight into the Maps @huggingface/tokenizers builds from them, without materialising them
 * as JSON objects first. `JSON.parse` of the whole 11 MB file followed by the library's
 * `new Map(Object.entries(vocab))` and `new Map(merges.map((x, i) => [JSON.stringify(x), i]))` (BPE constructor,
 * @huggingface/tokenizers 0.2.0) allocates every token string about three times over, and on a loaded 2-core
 * machine the young-generation GC of those copies was as costly as the parse itself.
 *
 * Only the exact shapes are taken (vocab: string → non-negative integer; merges: pairs of strings, the
 * format tokenizers >= 0.20 writes); anything else returns undefined and the caller parses the file normally.
 */
export interface ScannedBpe {
  /** `model.vocab` in file order. */
  vocab: Map<string, number>;
  /** id → token, as the library derives it from the vocab; undefined when a token or an id appears twice. */
  tokens: string[] | undefined;
  /** `JSON.stringify([a, b])` → rank, the key format the library's BPE looks merges up with. */
  ranks: Map<string, number>;
  /** The file with `model.vocab` emptied to `{}` and `model.merges` to `[]`, for JSON.parse. */
  rest: string;
}

const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const ZERO = 48;
const NINE = 57;
const COLON = 58;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** Thrown inside the scanner when the text is not in the shape it handles; never escapes this module. */
class NotFastPath extends Error {}

class Cursor {
  /** Whether the last string read had no escapes (its JSON form is then `"` + value + `"`). */
  plain = true;

  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  /** Skips JSON whitespace and returns the next character code (NaN at the end). */
  peek(): number {
    let c = this.text.charCodeAt(this.pos);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = this.text.charCodeAt(++this.pos);
    return c;
  }

  expect(code: number): void {
    if (this.peek() !== code) throw new NotFastPath();
    this.pos++;
  }

  string(): string {
    if (this.peek() !== QUOTE) throw new NotFastPath();
    const { text } = this;
    const start = this.pos;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) break;
      // Raw control characters are invalid JSON (JSON.parse would throw); NaN is the end of the text.
      if (!(c >= SPACE)) throw new NotFastPath();
      if (c === BACKSLASH) {
        escaped = true;
        j += 2;
      } else {
        j++;
      }
    }
    this.pos = j + 1;
    this.plain = !escaped;
    return escaped ? (JSON.parse(text.slice(start, j + 1)) as string) : text.slice(start + 1, j);
  }

  /** A JSON integer >= 0 that is exact as a double; fractions, exponents and leading zeros are not taken. */
  unsigned(): number {
    let c = this.peek();
    const start = this.pos;
    let value = 0;
    while (c >= ZERO && c <= NINE) {
      value = value * 10 + (c - ZERO);
      c = this.text.charCodeAt(++this.pos);
    }
    const digits = this.pos - start;
    if (digits === 0 || (digits > 1 && this.text.charCodeAt(start) === ZERO) || !Number.isSafeInteger(value)) throw new NotFastPath();
    if (c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */) throw new NotFastPath();
    return value;
  }

  /** Enters a container: true if it has elements, false if it closes at once. */
  open(open: number, close: number): boolean {
    this.expect(open);
    if (this.peek() !== close) return true;
    this.pos++;
    return false;
  }

  /** After an element: true if another follows (`,`), false at the closing character. */
  next(close: number): boolean {
    const c = this.peek();
    this.pos++;
    if (c === COMMA) return true;
    if (c === close) return false;
    throw new NotFastPath();
  }
}

function scanVocab(cursor: Cursor): Pick<ScannedBpe, 'vocab' | 'tokens'> {
  const vocab = new Map<string, number>();
  const tokens: string[] = [];
  let repeated = false;
  if (cursor.open(OPEN_BRACE, CLOSE_BRACE)) {
    do {
      const token = cursor.string();
      cursor.expect(COLON);
      const id = cursor.unsigned();
      if (tokens[id] !== undefined || vocab.has(token)) repeated = true;
      vocab.set(token, id);
      tokens[id] = token;
    } while (cursor.next(CLOSE_BRACE));
  }
  return { vocab, tokens: repeated ? undefined : tokens };
}

function scanMerges(cursor: Cursor): Map<string, number> {
  const ranks = new Map<string, number>();
  if (!cursor.open(OPEN_BRACKET, CLOSE_BRACKET)) return ranks;
  let rank = 0;
  do {
    cursor.expect(OPEN_BRACKET);
    const a = cursor.string();
    const plainA = cursor.plain;
    cursor.expect(COMMA);
    const b = cursor.string();
    const plainB = cursor.plain;
    cursor.expect(CLOSE_BRACKET);
    // For strings that needed no escape in the file, JSON.stringify adds none either (it escapes only quotes,
    // backslashes, control characters and lone surrogates, none of which can appear raw in a valid UTF-8 JSON string).
    ranks.set(plainA && plainB ? '["' + a + '","' + b + '"]' : JSON.stringify([a, b]), rank++);
  } while (cursor.next(CLOSE_BRACKET));
  return ranks;
}

/** Where the value of the first `"key": <open>` starts, or -1. */
function valueStart(text: string, key: string, open: '{' | '['): number {
  const match = new RegExp(`"${key}"[ \\t\\n\\r]*:[ \\t\\n\\r]*\\${open}`).exec(text);
  return match ? match.index + match[0].length - 1 : -1;
}

/**
 * Scans `model.vocab` and `model.merges` of a tokenizer.json text. The caller must check that the parsed `rest`
 * has `model.vocab` equal to `{}` and `model.merges` equal to `[]`: that proves the spans taken were those two
 * values (a key of the same name elsewhere would leave the model's own vocab or merges in `rest`).
 */
export function scanBpeJson(text: string): ScannedBpe | undefined {
  const vocabAt = valueStart(text, 'vocab', '{');
  const mergesAt = valueStart(text, 'merges', '[');
  if (vocabAt < 0 || mergesAt < 0) return undefined;
  try {
    const vocabCursor = new Cursor(text, vocabAt);
    const { vocab, tokens } = scanVocab(vocabCursor);
    const mergesCursor = new Cursor(text, mergesAt);
    const ranks = scanMerges(mergesCursor);
    const spans = [
      { from: vocabAt, to: vocabCursor.pos, empty: '{}' },
      { from: mergesAt, to: mergesCursor.pos, empty: '[]' },
    ].sort((x, y) => x.from - y.from);
    const [first, second] = spans as [(typeof spans)[0], (typeof spans)[0]];
    if (first.to > second.from) return undefined;
    const rest = text.slice(0, first.from) + first.empty + text.slice(first.to, second.from) + second.empty + text.slice(second.to);
    return { vocab, tokens, ranks, rest };
  } catch (e) {
    if (e instanceof NotFastPath || e instanceof SyntaxError) return undefined;
    throw e;
  }
}
