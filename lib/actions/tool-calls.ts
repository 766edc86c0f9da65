/**
 * Checking the calls of one model turn against the tools offered: an unknown name is TOOL_UNKNOWN at
 * once; arguments that are not JSON or do not match the tool's schema are listed for a repair round.
 */
import { Ax650Error } from '../errors';
import type { ToolCall, ToolSpec } from '../runtime/types';
import { validateAgainst } from './validate';

export interface CallProblem {
  call: ToolCall;
  message: string;
}

/** Checks a tools list given by a user (msg.tools, an API body): OpenAI function format, unique names, valid schemas. */
export function checkTools(tools: unknown): ToolSpec[] {
  if (!Array.isArray(tools)) throw new Ax650Error('BAD_INPUT', 'tools must be an array of {"type":"function","function":{"name","description","parameters"}}.', { params: { field: 'tools' } });
  const seen = new Set<string>();
  return tools.map((t, i) => {
    const fn = typeof t === 'object' && t !== null ? (t as { function?: unknown }).function : undefined;
    const f = typeof fn === 'object' && fn !== null ? (fn as Record<string, unknown>) : undefined;
    if (!f || typeof f['name'] !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(f['name'])) {
      throw new Ax650Error('BAD_INPUT', `tools[${i}] must be {"type":"function","function":{"name":…}} with a name of letters, digits, _ or - (at most 64).`, { params: { field: `tools[${i}]` } });
    }
    if (seen.has(f['name'])) throw new Ax650Error('BAD_INPUT', `tools[${i}]: the tool name "${f['name']}" is given twice.`, { params: { field: `tools[${i}]` } });
    seen.add(f['name']);
    const spec: ToolSpec = { type: 'function', function: { name: f['name'] } };
    if (typeof f['description'] === 'string') spec.function.description = f['description'];
    if (f['parameters'] !== undefined) {
      if (typeof f['parameters'] !== 'object' || f['parameters'] === null || Array.isArray(f['parameters'])) {
        throw new Ax650Error('BAD_INPUT', `tools[${i}].function.parameters must be a JSON Schema object.`, { params: { field: `tools[${i}]` } });
      }
      spec.function.parameters = f['parameters'] as Record<string, unknown>;
      validateAgainst(spec.function.parameters, {}, `tool "${f['name']}"`);
    }
    return spec;
  });
}

/** The problems of a turn's calls; throws TOOL_UNKNOWN for a call of a tool that was not offered. */
export function checkCalls(calls: readonly ToolCall[], tools: readonly ToolSpec[]): CallProblem[] {
  const problems: CallProblem[] = [];
  for (const call of calls) {
    if (call.name === '') {
      problems.push({ call, message: `the tool call ${JSON.stringify(call.raw.slice(0, 80))} is not JSON of the form {"name": …, "arguments": {…}}` });
      continue;
    }
    const tool = tools.find((t) => t.function.name === call.name);
    if (!tool) {
      const names = tools.map((t) => t.function.name).join(', ');
      throw new Ax650Error('TOOL_UNKNOWN', `The model called the tool "${call.name}", which is not one of the tools offered (${names}).`, { params: { name: call.name, tools: names } });
    }
    if (call.arguments === undefined) {
      problems.push({ call, message: `the arguments of "${call.name}" are not a JSON object: ${call.raw.slice(0, 80)}` });
      continue;
    }
    const schema = tool.function.parameters;
    if (!schema) continue;
    const v = validateAgainst(schema, call.arguments, `tool "${call.name}"`);
    if (!v.ok) problems.push({ call, message: `"${call.name}": ${v.message.replace(/^the value/, 'the arguments')}` });
  }
  return problems;
}
