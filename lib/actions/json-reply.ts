/**
 * A model's JSON reply as a value: the thinking block and Markdown fences (```json … ```) that small
 * models wrap around JSON are removed, and when prose surrounds the JSON the outermost object or
 * array is taken.
 */
export type JsonParse = { ok: true; value: unknown } | { ok: false; message: string };

export function stripReplyWrapping(text: string): string {
  let t = text.replace(/<think>[\s\S]*?<\/think>/g, '').replace(/^[\s\S]*?<\/think>/, '').trim();
  const fence = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(t);
  if (fence?.[1] !== undefined) t = fence[1].trim();
  return t;
}

export function parseJsonReply(text: string): JsonParse {
  const t = stripReplyWrapping(text);
  if (t === '') return { ok: false, message: 'the reply is empty, not JSON' };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch (e) {
    const inner = outermost(t);
    if (inner !== null) {
      try {
        return { ok: true, value: JSON.parse(inner) };
      } catch {
        // fall through: report the first error
      }
    }
    return { ok: false, message: `the reply is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
}

function outermost(t: string): string | null {
  const start = t.search(/[{[]/);
  if (start < 0) return null;
  const close = t[start] === '{' ? '}' : ']';
  const end = t.lastIndexOf(close);
  return end > start ? t.slice(start, end + 1) : null;
}
