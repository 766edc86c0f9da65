/**
 * The tool loop: the model's turn may call tools → each call's arguments are checked against its
 * tool's schema (one repair round for invalid ones, then TOOL_ARGS_INVALID; an unknown tool is
 * TOOL_UNKNOWN) → the calls run, each within the tool timeout (TOOL_TIMEOUT) → their results go back
 * as `tool` messages → the model continues. After `maxRounds` tool rounds the model must answer
 * (tool_choice "none"). Each model turn is one job through the Runtime's queue, so the NPU is free
 * while the tools run. A request with a conversation key keeps the whole round in
 * that conversation: the follow-up turns send only what is new (the tool results, a repair prompt)
 * under the same key, and the Runtime stores them with the replies (JobRequest.toolResults).
 */
import { Ax650Error } from '../errors';
import type { ChatMessage, JobRequest, JobResult, JobRunner, JobStats, ToolCall, ToolChoice, ToolSpec } from '../runtime/types';
import { checkCalls } from './tool-calls';
import { parseToolMarkup, renderToolCall } from './tool-markup';
import { conversationTurn, followUp, runTurn, sumStats, transcriptOf, type DeltaSink } from './run-turn';

export interface ToolLoopOptions {
  tools: ToolSpec[];
  toolChoice?: ToolChoice;
  /** Tool rounds before the model must answer. Default 4. */
  maxRounds?: number;
  /** Per call, ms. Default 30000. */
  toolTimeoutMs?: number;
  /** Repair rounds for invalid arguments. Default 1. */
  repairRounds?: number;
  /** Whether the loop can run this tool itself; a call of any other tool ends the loop with `calls`. Default: all. */
  canRun?(name: string): boolean;
  /** Runs one validated call; its value (or text) is the tool's result. The signal aborts at the timeout. */
  runTool?(call: ToolCall, signal: AbortSignal): Promise<unknown>;
  onDelta?: DeltaSink;
  /** Each validated call, as it is about to run. */
  onToolCall?(call: ToolCall): void;
}

export interface ExecutedCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  result: unknown;
  ms: number;
}

export interface ToolLoopStats extends JobStats {
  /** The calls that ran, in order. */
  toolCalls: ExecutedCall[];
  /** Model turns that called tools. */
  rounds: number;
  /** Repair rounds used for invalid arguments. */
  repairs: number;
}

export type ToolLoopOutcome =
  /** The model answered: `text` is the final answer. */
  | { kind: 'final'; text: string; result: JobResult; stats: ToolLoopStats; messages: ChatMessage[] }
  /** The model called tools the loop cannot run: they are handed to the caller. */
  | { kind: 'calls'; text: string; calls: ToolCall[]; result: JobResult; stats: ToolLoopStats; messages: ChatMessage[] };

export async function runToolLoop(runner: JobRunner, request: JobRequest, opts: ToolLoopOptions): Promise<ToolLoopOutcome> {
  const maxRounds = opts.maxRounds ?? 4;
  const repairRounds = opts.repairRounds ?? 1;
  const messages = transcriptOf(request);
  const results: JobResult[] = [];
  const executed: ExecutedCall[] = [];
  let rounds = 0;
  let repairs = 0;
  let repairsThisRound = 0;
  let req: JobRequest = { ...request, tools: opts.tools, toolChoice: opts.toolChoice ?? 'auto' };
  // The next turn: in the stored conversation (only the new part), else the whole transcript so far.
  // A transcript with a key replaced the stored conversation in the first turn: it goes on from there too.
  const stored = request.conversation !== undefined;
  const next = (added: Pick<JobRequest, 'prompt' | 'toolResults'>): JobRequest => (stored ? conversationTurn(request, added) : followUp(request, copy(messages)));
  const stats = (): ToolLoopStats => ({ ...sumStats(results), toolCalls: executed, rounds, repairs });
  for (;;) {
    const result = await runTurn(runner, req, opts.onDelta);
    results.push(result);
    const calls = req.toolChoice === 'none' ? [] : (result.toolCalls ?? []);
    // tool_choice "required" or a named tool: a reply without that call gets one repair round too (no runtime enforces it).
    const missing = missingCall(req.toolChoice, calls);
    if (missing !== null) {
      if (repairsThisRound >= repairRounds) {
        throw new Ax650Error('TOOL_NOT_CALLED', `The model did not call ${missing} although the tool choice requires it, also after ${repairsThisRound} repair round${repairsThisRound === 1 ? '' : 's'}. Its reply: ${result.text.slice(0, 300)}`, {
          params: { tool: missing, raw: result.text },
        });
      }
      repairsThisRound++;
      repairs++;
      const repair = `You must call ${missing} now: answer with a <tool_call> block, not with text.`;
      messages.push({ role: 'assistant', content: [result.text, ...calls.map(renderToolCall)].filter((s) => s !== '').join('\n') }, { role: 'user', content: repair });
      req = { ...next({ prompt: repair }), tools: opts.tools, toolChoice: req.toolChoice ?? 'auto' };
      continue;
    }
    if (calls.length === 0) {
      // With tool_choice "none" (after max rounds) a call the model writes anyway is not run, and its markup is no answer.
      const text = req.toolChoice === 'none' ? parseToolMarkup(result.text).text : result.text;
      return { kind: 'final', text, result: { ...result, text, stats: stats() }, stats: stats(), messages: [...messages, { role: 'assistant', content: text }] };
    }
    const problems = checkCalls(calls, opts.tools);
    if (problems.length > 0) {
      const what = problems.map((p) => p.message).join('; ');
      if (repairsThisRound >= repairRounds) {
        throw new Ax650Error('TOOL_ARGS_INVALID', `The model's tool call is still invalid after ${repairsThisRound} repair round${repairsThisRound === 1 ? '' : 's'}: ${what}.`, {
          params: { name: problems[0]!.call.name, reason: what, raw: problems[0]!.call.raw },
        });
      }
      repairsThisRound++;
      repairs++;
      const repair = `Your tool call was invalid: ${what}. Call the tool again with arguments that match its JSON Schema.`;
      messages.push({ role: 'assistant', content: [result.text, ...calls.map(renderToolCall)].filter((s) => s !== '').join('\n') }, { role: 'user', content: repair });
      req = { ...next({ prompt: repair }), tools: opts.tools, toolChoice: req.toolChoice ?? 'auto' };
      continue;
    }
    repairsThisRound = 0;
    if (!opts.runTool || calls.some((c) => opts.canRun && !opts.canRun(c.name))) {
      return { kind: 'calls', text: result.text, calls, result: { ...result, stats: stats() }, stats: stats(), messages: [...messages, { role: 'assistant', content: result.text, toolCalls: calls }] };
    }
    rounds++;
    messages.push({ role: 'assistant', content: result.text, toolCalls: calls });
    const answers: ChatMessage[] = [];
    for (const call of calls) {
      opts.onToolCall?.(call);
      const t0 = Date.now();
      const value = await withTimeout(opts.runTool, call, opts.toolTimeoutMs ?? 30_000);
      executed.push({ id: call.id, name: call.name, arguments: call.arguments ?? {}, result: value, ms: Date.now() - t0 });
      answers.push({ role: 'tool', content: typeof value === 'string' ? value : JSON.stringify(value ?? null), toolCallId: call.id, toolName: call.name });
    }
    messages.push(...answers);
    // After the first round a "required" choice would loop for ever; after the last the model must answer.
    const choice: ToolChoice = rounds >= maxRounds ? 'none' : opts.toolChoice === 'required' || typeof opts.toolChoice === 'object' ? 'auto' : (opts.toolChoice ?? 'auto');
    req = { ...next({ prompt: request.prompt, toolResults: answers }), tools: opts.tools, toolChoice: choice };
  }
}

/** What the tool choice demands and the turn lacks, in words ("one of the tools", 'the tool "move"'), or null. */
function missingCall(choice: ToolChoice | undefined, calls: readonly ToolCall[]): string | null {
  if (choice === 'required') return calls.length === 0 ? 'one of the tools' : null;
  if (typeof choice === 'object') return calls.length === 0 || calls.some((c) => c.name !== choice.name) ? `the tool "${choice.name}"` : null;
  return null;
}

function copy(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => ({ ...m }));
}

async function withTimeout(run: NonNullable<ToolLoopOptions['runTool']>, call: ToolCall, ms: number): Promise<unknown> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(new Ax650Error('TOOL_TIMEOUT', `The tool "${call.name}" did not return a result within ${ms} ms; check that its branch ends in an ax650-tool-result node.`, { params: { name: call.name, ms } }));
    }, ms);
  });
  try {
    return await Promise.race([run(call, ctl.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
