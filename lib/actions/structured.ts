/**
 * JSON replies (Ollama's `format`, OpenAI's `response_format`): the model is asked for JSON, the
 * reply is parsed and validated, and an invalid one gets a bounded repair round in which the
 * validator's message goes back to the model. Still invalid: SCHEMA_MISMATCH carrying the raw text.
 */
import { Ax650Error } from '../errors';
import type { JobRequest, JobResult, JobRunner } from '../runtime/types';
import { parseJsonReply } from './json-reply';
import { conversationTurn, followUp, runTurn, sumStats, transcriptOf, type DeltaSink } from './run-turn';
import { compileSchema, validateAgainst } from './validate';

/** `"json"`: any JSON value; an object: a JSON Schema the reply must match. */
export type ReplyFormat = 'json' | Record<string, unknown>;

export interface StructuredOptions {
  /** Repair rounds after the first reply. Default 1. */
  repairRounds?: number;
  onDelta?: DeltaSink;
}

export interface StructuredResult {
  /** The parsed, validated reply. */
  value: unknown;
  /** The raw text of the accepted reply. */
  text: string;
  /** The accepted turn's result, with the stats of every turn added up. */
  result: JobResult;
  repairs: number;
}

/** Checks a format given by a user (msg.format, an API body); BAD_INPUT when it is neither "json" nor a valid schema. */
export function checkFormat(format: unknown): ReplyFormat {
  if (format === 'json') return 'json';
  if (typeof format === 'object' && format !== null && !Array.isArray(format)) {
    compileSchema(format as Record<string, unknown>, 'the reply format');
    return format as Record<string, unknown>;
  }
  throw new Ax650Error('BAD_INPUT', `format must be "json" or a JSON Schema object, got ${JSON.stringify(format)?.slice(0, 60) ?? String(format)}.`, { params: { field: 'format' } });
}

/** The instruction appended to the prompt so the model answers in JSON. */
export function formatInstruction(format: ReplyFormat): string {
  return format === 'json'
    ? 'Answer with one JSON value only, no other text.'
    : `Answer with one JSON value only, no other text, matching this JSON Schema: ${JSON.stringify(format)}`;
}

export function checkReply(text: string, format: ReplyFormat): { ok: true; value: unknown } | { ok: false; message: string } {
  const parsed = parseJsonReply(text);
  if (!parsed.ok || format === 'json') return parsed;
  const v = validateAgainst(format, parsed.value, 'the reply format');
  return v.ok ? parsed : { ok: false, message: v.message };
}

export async function generateStructured(runner: JobRunner, request: JobRequest, format: ReplyFormat, opts: StructuredOptions = {}): Promise<StructuredResult> {
  const rounds = opts.repairRounds ?? 1;
  const messages = transcriptOf(request);
  const last = messages[messages.length - 1];
  if (last && last.role === 'user') last.content = `${last.content}\n\n${formatInstruction(format)}`;
  const first: JobRequest = request.messages ? { ...request, messages } : { ...request, prompt: last?.content ?? request.prompt };
  const results: JobResult[] = [];
  let req = first;
  for (let repair = 0; ; repair++) {
    const result = await runTurn(runner, req, opts.onDelta);
    results.push(result);
    const check = checkReply(result.text, format);
    if (check.ok) return { value: check.value, text: result.text, result: { ...result, stats: sumStats(results) }, repairs: repair };
    if (repair >= rounds) {
      throw new Ax650Error('SCHEMA_MISMATCH', `The model's reply does not match the requested format after ${repair} repair round${repair === 1 ? '' : 's'}: ${check.message}. Raw reply: ${result.text.slice(0, 500)}`, {
        params: { reason: check.message, raw: result.text, repairs: repair },
      });
    }
    const again = `That reply is not usable: ${check.message}. ${formatInstruction(format)}`;
    messages.push({ role: 'assistant', content: result.text }, { role: 'user', content: again });
    // In a stored conversation the repair is its next prompt (the history is there); else the transcript so far.
    req = request.conversation !== undefined ? conversationTurn(request, { prompt: again }) : followUp(request, messages.map((m) => ({ ...m })));
  }
}
