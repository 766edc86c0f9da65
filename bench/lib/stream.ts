/**
 * One reply as a client saw it: when it asked and when each piece arrived. Every ingress (raw
 * simulator, flow, MQTT, HTTP) is reduced to this shape so that one definition of "first token" and
 * "tokens per second" applies to all of them.
 */

export interface TimedStream {
  /** performance.now() when the prompt was handed over. */
  start: number;
  deltas: Array<{ t: number; text: string }>;
}

export interface StreamFigures {
  /** From the hand-over to the first piece with visible text, ms. */
  ttftMs: number;
  /** Tokens between the first and the last visible piece divided by the time between them. */
  tokensPerSecond: number;
  text: string;
}

/** Qwen3's empty think block as the raw runtime streams it; the package strips it by default. */
export function stripThink(raw: string): string {
  if (!'<think>'.startsWith(raw.slice(0, 7))) return raw;
  if (!raw.startsWith('<think>')) return '';
  const end = raw.indexOf('</think>');
  return end < 0 ? '' : raw.slice(end + '</think>'.length).replace(/^\s+/, '');
}

/**
 * `visible` maps the text so far to what a user would see (stripThink for the raw runtime, identity
 * for ingresses that already strip). The token count of the first visible piece is not part of the
 * rate: its arrival starts the clock.
 */
export function figures(s: TimedStream, visible: (soFar: string) => string, countTokens: (text: string) => number): StreamFigures {
  let soFar = '';
  let first: { t: number; tokens: number } | null = null;
  let last = { t: NaN, text: '' };
  for (const d of s.deltas) {
    soFar += d.text;
    const shown = visible(soFar);
    if (shown === '' || shown === last.text) continue;
    if (first === null) first = { t: d.t, tokens: countTokens(shown) };
    last = { t: d.t, text: shown };
  }
  if (first === null) throw new Error('the reply had no visible text');
  const tokens = countTokens(last.text) - first.tokens;
  const seconds = (last.t - first.t) / 1000;
  return { ttftMs: first.t - s.start, tokensPerSecond: seconds > 0 ? tokens / seconds : NaN, text: last.text };
}
