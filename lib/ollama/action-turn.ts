/**
 * One model turn that must come back structured: with tools (the reply may call them) or with a
 * reply format ("json" or a JSON Schema). The turn is held back until it is validated, so a
 * client (often a robot) never receives half a tool call or JSON that fails its schema; the
 * client runs the tools itself and continues the conversation with `tool` messages.
 */
import type { JobResult, ToolCall, ToolChoice, ToolSpec } from '../runtime/types';
import type { ReplyFormat } from './actions-input';
import type { ApiContext, Exchange } from './context';
import { runJob, type JobSpec } from './job-bridge';

export interface ActionAsk {
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  format?: ReplyFormat;
}

export interface ActionReply {
  /** The reply's text without tool-call markup; for a format, the validated JSON text. */
  text: string;
  toolCalls: ToolCall[];
  result: JobResult;
}

/** The ask when the request has tools or a format, else undefined (a plain streamed turn). */
export function actionAsk(tools: ToolSpec[] | undefined, toolChoice: ToolChoice | undefined, format: ReplyFormat | undefined): ActionAsk | undefined {
  const ask: ActionAsk = {};
  if (tools && toolChoice !== 'none') ask.tools = tools;
  if (ask.tools && toolChoice !== undefined) ask.toolChoice = toolChoice;
  if (format !== undefined) ask.format = format;
  return ask.tools || ask.format !== undefined ? ask : undefined;
}

export async function runActionTurn(ctx: Pick<ApiContext, 'runner' | 'owner'>, spec: JobSpec, ask: ActionAsk, ex: Exchange): Promise<ActionReply> {
  const job: JobSpec = { ...spec };
  if (ask.tools) job.tools = ask.tools;
  if (ask.toolChoice !== undefined) job.toolChoice = ask.toolChoice;
  const result = await runJob(ctx, job, ex, () => undefined);
  return { text: result.text, toolCalls: result.toolCalls ?? [], result };
}
