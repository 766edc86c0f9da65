/**
 * Qwen3's tool-call markup, `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (what axllm's
 * PR56 parses and what the 2025 runtime's models print as text): parsing a reply into calls, and a
 * stream filter that keeps the markup out of the text stream even when a tag is split across deltas.
 */
import type { ToolCall } from '../runtime/types';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

export interface ParsedReply {
  /** The reply without any tool-call block. */
  text: string;
  /** Every block in order. A block that is not `{"name": string, …}` JSON has name '' and its text in `raw`. */
  calls: ToolCall[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A call from a name and arguments given as an object or as a JSON string (OpenAI's wire form). */
export function makeToolCall(id: string, name: string, args: unknown): ToolCall {
  if (typeof args === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(args === '' ? '{}' : args);
    } catch {
      return { id, name, raw: args };
    }
    return isRecord(parsed) ? { id, name, arguments: parsed, raw: args } : { id, name, raw: args };
  }
  const raw = JSON.stringify(args ?? {});
  return isRecord(args ?? {}) ? { id, name, arguments: (args ?? {}) as Record<string, unknown>, raw } : { id, name, raw };
}

export function parseToolMarkup(reply: string, idPrefix = 'call'): ParsedReply {
  const calls: ToolCall[] = [];
  let text = '';
  let at = 0;
  for (;;) {
    const open = reply.indexOf(OPEN, at);
    if (open < 0) {
      text += reply.slice(at);
      break;
    }
    text += reply.slice(at, open);
    const close = reply.indexOf(CLOSE, open + OPEN.length);
    const body = reply.slice(open + OPEN.length, close < 0 ? reply.length : close).trim();
    at = close < 0 ? reply.length : close + CLOSE.length;
    const id = `${idPrefix}_${calls.length}`;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      calls.push({ id, name: '', raw: body });
      continue;
    }
    if (!isRecord(value) || typeof value['name'] !== 'string') {
      calls.push({ id, name: '', raw: body });
      continue;
    }
    calls.push(makeToolCall(`${id}_${value['name']}`, value['name'], value['arguments'] ?? value['parameters'] ?? {}));
  }
  return { text: text.replace(/\n{3,}/g, '\n\n').trim() === '' ? '' : text.trim(), calls };
}

/** Qwen3's own rendering of a call, the exact spacing its template uses. */
export function renderToolCall(call: Pick<ToolCall, 'name' | 'raw'>): string {
  return `${OPEN}\n{"name": ${JSON.stringify(call.name)}, "arguments": ${call.raw === '' ? '{}' : call.raw}}\n${CLOSE}`;
}

/**
 * Drops `<tool_call>…</tool_call>` from a stream of deltas. `push` returns the text that is safe to
 * show now; a possible start of the tag is held until the next delta decides. `flush` at the end.
 */
export class ToolMarkupFilter {
  private held = '';
  private inside = false;
  /** Some markup was seen (the reply calls tools). */
  sawMarkup = false;

  push(delta: string): string {
    this.held += delta;
    let out = '';
    for (;;) {
      if (this.inside) {
        const close = this.held.indexOf(CLOSE);
        if (close < 0) {
          // keep only what could be the start of the closing tag
          this.held = this.held.slice(Math.max(0, this.held.length - (CLOSE.length - 1)));
          return out;
        }
        this.held = this.held.slice(close + CLOSE.length);
        this.inside = false;
        continue;
      }
      const open = this.held.indexOf(OPEN);
      if (open >= 0) {
        out += this.held.slice(0, open);
        this.held = this.held.slice(open + OPEN.length);
        this.inside = true;
        this.sawMarkup = true;
        continue;
      }
      const keep = partialSuffix(this.held, OPEN);
      out += this.held.slice(0, this.held.length - keep);
      this.held = this.held.slice(this.held.length - keep);
      return out;
    }
  }

  flush(): string {
    const rest = this.inside ? '' : this.held;
    this.held = '';
    return rest;
  }
}

/** Length of the longest suffix of `s` that is a proper prefix of `tag`. */
function partialSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) if (tag.startsWith(s.slice(s.length - n))) return n;
  return 0;
}
