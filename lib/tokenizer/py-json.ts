/**
 * `json.dumps` with Python's defaults, so bodies are byte-identical to the vendor service's:
 * `", "` and `": "` separators and `ensure_ascii=True` (everything outside printable ASCII as `\uXXXX`,
 * astral characters as surrogate pairs). Only the shapes the protocol uses are supported.
 */
export type PyJson = string | number | boolean | null | PyJson[] | { [key: string]: PyJson };

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function pyString(s: string): string {
  return '"' + s.replace(/[\\"]|[^ -~]/g, (c) => SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
}

export function pyJsonDumps(value: PyJson): string {
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`pyJsonDumps supports integers only, got ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    // Id lists are the big bodies (2,000+ ids on a restore): join writes integers exactly as String() does, without a string per id.
    if (value.every((v) => Number.isInteger(v))) return '[' + value.join(', ') + ']';
    return '[' + value.map(pyJsonDumps).join(', ') + ']';
  }
  return '{' + Object.entries(value).map(([k, v]) => pyString(k) + ': ' + pyJsonDumps(v)).join(', ') + '}';
}
