/**
 * The generate node's structured path (issue #15): `msg.format` ("json" or a JSON Schema) and
 * `msg.tools` (OpenAI format). Streamed text goes to output 1 as usual (never tool markup); the
 * parsed reply (msg.payload = the object) or the final answer (msg.stats.toolCalls) to output 2;
 * tool calls the flow must run itself go to output 2 as `msg.toolCalls` (payload = the model's text).
 * The work is lib/actions; this only maps it onto messages.
 */
import { checkFormat, checkTools, generateStructured, runToolLoop, type ReplyFormat } from '../lib/actions';
import type { ConversationStore } from '../lib/runtime/context-tracker';
import type { ChatMessage, JobRequest, JobRunner, ToolSpec } from '../lib/runtime/types';
import { TranslatedError } from './shared/i18n';
import { callTool, hasTool, toolboxSpecs } from './shared/toolbox';

export interface ActionsRequest {
  format?: ReplyFormat;
  tools?: ToolSpec[];
  /** The toolbox whose ax650-tool nodes run the calls. */
  toolbox?: string;
  maxRounds?: number;
  toolTimeoutMs?: number;
  /** The asking message's `_client` (Dashboard 2's browser), handed on to the tool branches so a reply reaches that page. */
  origin?: Record<string, unknown>;
}

/** The generate node's tool settings. */
export interface ToolSettings {
  toolbox: string;
  maxRounds: number;
  toolTimeoutMs: number;
}

/** The node's message catalog (RED._). */
export type Translate = (key: string, params: Record<string, string>) => string;

/**
 * The actions a message asks for, checked (BAD_INPUT on a bad format or tools list); undefined for a plain prompt.
 * A msg.tools entry named like a tool node of the toolbox is BAD_INPUT: a call of that name fires the tool node, so it
 * must be checked against the tool node's own schema, never against one the message brought.
 */
export function actionsOf(msg: { format?: unknown; tools?: unknown; _client?: unknown }, settings: ToolSettings, nodeFormat: unknown, t: Translate): ActionsRequest | undefined {
  const out: ActionsRequest = { maxRounds: settings.maxRounds, toolTimeoutMs: settings.toolTimeoutMs };
  const format = msg.format ?? nodeFormat;
  if (format !== undefined && format !== '') out.format = checkFormat(format);
  const boxTools = settings.toolbox ? toolboxSpecs(settings.toolbox) : [];
  const msgTools = msg.tools !== undefined ? checkTools(msg.tools) : [];
  const clash = msgTools.find((m) => boxTools.some((b) => b.function.name === m.function.name));
  if (clash) {
    const params = { name: clash.function.name, toolbox: settings.toolbox };
    throw new TranslatedError('BAD_INPUT', t('ax650-generate.errors.tool-clash', params), { params: { field: 'tools', ...params } });
  }
  const tools = [...boxTools, ...msgTools];
  if (tools.length > 0) out.tools = tools;
  if (settings.toolbox) out.toolbox = settings.toolbox;
  if (msg._client !== undefined) out.origin = { _client: msg._client };
  return out.format || out.tools ? out : undefined;
}

export type ActionsOutcome =
  | { kind: 'value'; payload: unknown; text: string; stats: object }
  | { kind: 'final'; payload: string; stats: object; messages: object[] }
  | { kind: 'calls'; payload: string; toolCalls: object[]; stats: object; messages: object[] };

/**
 * Output 2's msg.messages: in a stored conversation the whole conversation (system prompt first, this prompt's
 * tool round included), so a flow that runs msg.toolCalls itself can send it back with the results (and the same
 * msg.conversation) without losing the earlier history; otherwise the transcript of this prompt.
 */
function transcriptFor(request: JobRequest, own: ChatMessage[], conversations: Pick<ConversationStore, 'get'> | undefined): ChatMessage[] {
  const stored = request.conversation !== undefined && request.messages === undefined ? conversations?.get(request.conversation) : undefined;
  return stored ? [{ role: 'system', content: stored.system }, ...stored.turns.map((t) => ({ ...t }))] : own;
}

export async function runActions(runner: JobRunner, request: JobRequest, actions: ActionsRequest, onDelta: (text: string) => void, conversations?: Pick<ConversationStore, 'get'>): Promise<ActionsOutcome> {
  if (actions.tools) {
    // Without tool nodes every call is handed to the flow (output 2, msg.toolCalls).
    const box = actions.toolbox;
    const out = await runToolLoop(runner, request, {
      tools: actions.tools,
      onDelta,
      ...(actions.maxRounds !== undefined ? { maxRounds: actions.maxRounds } : {}),
      ...(actions.toolTimeoutMs !== undefined ? { toolTimeoutMs: actions.toolTimeoutMs } : {}),
      canRun: (name) => box !== undefined && hasTool(box, name),
      runTool: (call, signal) => callTool(box ?? '', call, signal, actions.origin),
    });
    if (out.kind === 'calls') {
      const toolCalls = out.calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments ?? {} }));
      return { kind: 'calls', payload: out.text, toolCalls, stats: out.stats, messages: transcriptFor(request, out.messages, conversations) };
    }
    return { kind: 'final', payload: out.text, stats: out.stats, messages: transcriptFor(request, out.messages, conversations) };
  }
  const out = await generateStructured(runner, request, actions.format!, { onDelta });
  return { kind: 'value', payload: out.value, text: out.text, stats: out.result.stats };
}
