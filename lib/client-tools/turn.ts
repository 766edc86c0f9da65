/**
 * One structured model turn for a requester that runs its tools itself (the HTTP API, MQTT): with
 * tools, the turn's calls are validated against their schemas (unknown tool → TOOL_UNKNOWN; one
 * repair round, then TOOL_ARGS_INVALID) and handed back, never run; with a format ("json" or a JSON
 * Schema), the reply is parsed and validated (one repair round, then SCHEMA_MISMATCH). Nothing is
 * streamed: the caller publishes the turn only once it is valid. Built on lib/actions.
 */
import { generateStructured, runToolLoop, type ReplyFormat } from '../actions';
import type { JobRequest, JobResult, JobRunner, ToolCall, ToolChoice, ToolSpec } from '../runtime/types';

export interface ClientActions {
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  format?: ReplyFormat;
}

export interface ClientTurn {
  /** The result; its `text` has no tool-call markup, and for a format is the validated JSON as text. */
  result: JobResult;
  /** The calls the requester must run (empty when the model answered). */
  toolCalls: ToolCall[];
  /** The parsed, validated reply of a format turn. */
  value?: unknown;
}

/** The actions to run, or undefined when the turn is a plain streamed one (no format; no tools, or tool_choice "none"). */
export function activeActions(a: ClientActions): ClientActions | undefined {
  const out: ClientActions = {};
  if (a.tools && a.tools.length > 0 && a.toolChoice !== 'none') out.tools = a.tools;
  if (out.tools && a.toolChoice !== undefined) out.toolChoice = a.toolChoice;
  if (a.format !== undefined) out.format = a.format;
  return out.tools || out.format !== undefined ? out : undefined;
}

export async function runClientTurn(runner: JobRunner, request: JobRequest, a: ClientActions): Promise<ClientTurn> {
  if (a.tools) {
    const opts: Parameters<typeof runToolLoop>[2] = { tools: a.tools };
    if (a.toolChoice !== undefined) opts.toolChoice = a.toolChoice;
    const out = await runToolLoop(runner, request, opts);
    return { result: { ...out.result, text: out.text }, toolCalls: out.kind === 'calls' ? out.calls : [] };
  }
  const out = await generateStructured(runner, request, a.format ?? 'json');
  return { result: { ...out.result, text: JSON.stringify(out.value) }, toolCalls: [], value: out.value };
}
