/** A LangChain tool-calling agent as a user would write it: ChatOllama.bindTools, run each call, feed back ToolMessages, until the model answers. */
import { ChatOllama } from '@langchain/ollama';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ToolSpec } from '../../lib/runtime/types';

export interface AgentRun {
  /** [name, args] of every call the agent ran, in order. */
  ran: Array<[string, Record<string, unknown>]>;
  /** The final answer's text. */
  answer: unknown;
}

export async function runOllamaAgent(baseUrl: string, tools: ToolSpec[], question: string, result: string, maxRounds = 3, modelName = 'qwen3-ax650'): Promise<AgentRun> {
  const model = new ChatOllama({ baseUrl, model: modelName }).bindTools(tools);
  const history: BaseMessage[] = [new HumanMessage(question)];
  const ran: AgentRun['ran'] = [];
  for (let round = 0; round < maxRounds; round++) {
    const ai = (await model.invoke(history)) as AIMessage;
    history.push(ai);
    if (!ai.tool_calls || ai.tool_calls.length === 0) break;
    for (const call of ai.tool_calls) {
      ran.push([call.name, call.args]);
      history.push(new ToolMessage({ content: result, tool_call_id: call.id ?? '' }));
    }
  }
  return { ran, answer: history.at(-1)?.content };
}
