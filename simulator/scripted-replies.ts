/**
 * Scripted replies (AX650_SIM_TOOL_SCRIPT, AX650_SIM_REPLY_SCRIPT), the same knobs on both simulated runtimes:
 * the n-th generation whose prompt carries tools is answered by element n of the tool script, the n-th
 * generation the tool script did not answer by string n of the reply script (the tool script wins for prompts with tools).
 * Tool calls are written exactly as Qwen3 writes them: `<tool_call>\n{"name": "move", "arguments": {"x": 1}}\n</tool_call>`,
 * calls separated by "\n". Past the end of a script the ordinary simulated reply comes back.
 */
import { pyJson } from '../lib/tokenizer/template-messages';

export type ToolScriptStep =
  | { calls: { name: string; arguments: Record<string, unknown> }[] }
  | { raw: string }
  | { text: string };

function bad(knob: string, detail: string): Error {
  return new Error(`${knob} ${detail}`);
}

function parseArray(knob: string, value: string | undefined): unknown[] | undefined {
  if (value === undefined || value === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw bad(knob, `must be a JSON array, got ${JSON.stringify(value)}`);
  }
  if (!Array.isArray(parsed)) throw bad(knob, `must be a JSON array, got ${JSON.stringify(value)}`);
  return parsed;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseToolScript(value: string | undefined): ToolScriptStep[] | undefined {
  const knob = 'AX650_SIM_TOOL_SCRIPT';
  return parseArray(knob, value)?.map((step, i) => {
    if (isObject(step) && typeof step['raw'] === 'string') return { raw: step['raw'] };
    if (isObject(step) && typeof step['text'] === 'string') return { text: step['text'] };
    const calls = isObject(step) ? step['calls'] : undefined;
    if (!Array.isArray(calls) || !calls.every((c) => isObject(c) && typeof c['name'] === 'string' && (c['arguments'] === undefined || isObject(c['arguments'])))) {
      throw bad(knob, `element ${i} must be {"calls":[{"name":…,"arguments":{…}}]}, {"raw":"…"} or {"text":"…"}`);
    }
    return { calls: calls.map((c: Record<string, unknown>) => ({ name: String(c['name']), arguments: (c['arguments'] as Record<string, unknown> | undefined) ?? {} })) };
  });
}

export function parseReplyScript(value: string | undefined): string[] | undefined {
  const list = parseArray('AX650_SIM_REPLY_SCRIPT', value);
  if (list && !list.every((s) => typeof s === 'string')) throw bad('AX650_SIM_REPLY_SCRIPT', 'must be a JSON array of strings');
  return list as string[] | undefined;
}

/** The model's text for one tool-script step. */
export function toolStepText(step: ToolScriptStep): string {
  if ('raw' in step) return step.raw;
  if ('text' in step) return step.text;
  return step.calls.map((c) => `<tool_call>\n{"name": ${JSON.stringify(c.name)}, "arguments": ${pyJson(c.arguments)}}\n</tool_call>`).join('\n');
}

export class ScriptedReplies {
  private toolTurns = 0;
  private turns = 0;

  constructor(private readonly tools: ToolScriptStep[] | undefined, private readonly replies: string[] | undefined) {}

  /** The scripted text for the next generation, or undefined for the ordinary reply. */
  next(withTools: boolean): string | undefined {
    if (withTools && this.tools) {
      const step = this.tools[this.toolTurns++];
      if (step) return toolStepText(step);
    }
    // As on the axllm simulator: a generation the tool script answered does not use up a reply.
    return this.replies?.[this.turns++];
  }
}
