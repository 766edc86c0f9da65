/**
 * A structured turn over HTTP (tools, Ollama `format`, OpenAI `response_format`): validated whole by
 * lib/client-tools before any of it is sent, so a client (often a robot) never receives half a tool
 * call or JSON that fails its schema. The client runs the tools and continues with `tool` messages.
 */
import { activeActions, runClientTurn, type ClientActions, type ClientTurn } from '../client-tools/turn';
import type { ToolChoice, ToolSpec } from '../runtime/types';
import type { ReplyFormat } from './actions-input';
import type { ApiContext, Exchange } from './context';
import { abortIfGone, jobFailure, type JobSpec } from './job-bridge';

export type ActionAsk = ClientActions;

export function actionAsk(tools: ToolSpec[] | undefined, toolChoice: ToolChoice | undefined, format: ReplyFormat | undefined): ActionAsk | undefined {
  const a: ClientActions = {};
  if (tools) a.tools = tools;
  if (toolChoice !== undefined) a.toolChoice = toolChoice;
  if (format !== undefined) a.format = format;
  return activeActions(a);
}

export async function runActionTurn(ctx: Pick<ApiContext, 'runner' | 'owner'>, spec: JobSpec, ask: ActionAsk, ex: Exchange): Promise<ClientTurn> {
  abortIfGone(ex.signal);
  try {
    return await runClientTurn(ctx.runner, { ...spec, owner: ctx.owner, signal: ex.signal }, ask);
  } catch (e) {
    throw jobFailure(e, ex.signal);
  }
}
