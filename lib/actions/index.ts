/**
 * Robot actions on top of the Runtime (issue #15), for every ingress (generate node, API facade, MQTT):
 * - `generateStructured(runner, request, format)`: a JSON reply (`"json"` or a JSON Schema), parsed and
 *   validated, with a bounded repair round, else SCHEMA_MISMATCH (params.raw = the raw reply);
 * - `runToolLoop(runner, request, {tools, runTool, …})`: the tool loop (TOOL_UNKNOWN, TOOL_ARGS_INVALID
 *   after a repair round, TOOL_TIMEOUT per call, bounded rounds), final answer with `stats.toolCalls`;
 * - `checkTools` / `checkFormat`: user input (OpenAI tools, Ollama format) checked into BAD_INPUT errors;
 * - `parseToolMarkup` / `ToolMarkupFilter`: Qwen3 `<tool_call>` blocks parsed, and kept out of text streams;
 * - `parseJsonReply`, `validateAgainst`: the building blocks.
 * One model turn is one job through the package's single queue. No Node-RED imports here.
 */
export { checkFormat, checkReply, formatInstruction, generateStructured, type ReplyFormat, type StructuredOptions, type StructuredResult } from './structured';
export { runToolLoop, type ExecutedCall, type ToolLoopOptions, type ToolLoopOutcome, type ToolLoopStats } from './tool-loop';
export { checkCalls, checkTools, type CallProblem } from './tool-calls';
export { makeToolCall, parseToolMarkup, renderToolCall, ToolMarkupFilter, type ParsedReply } from './tool-markup';
export { parseJsonReply, stripReplyWrapping, type JsonParse } from './json-reply';
export { compileSchema, describeErrors, validateAgainst, type Validation } from './validate';
export { runTurn, transcriptOf, type DeltaSink } from './run-turn';
