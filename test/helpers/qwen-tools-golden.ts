/**
 * Golden text of Qwen's chat template (qwen2.5_tokenizer; Qwen3's has the same tools branches) for a
 * transcript with tools, as transformers' apply_chat_template writes it: the system turn with the tools
 * block, an assistant turn with one call, and two tool results grouped into one user turn.
 */
import type { ChatMessage, ToolSpec } from '../../lib/runtime/types';

export const TOOLS: ToolSpec[] = [
  { type: 'function', function: { name: 'move', description: 'Move the arm', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } },
  { type: 'function', function: { name: 'say', description: 'Speak é', parameters: { type: 'object', properties: { text: { type: 'string' } } } } },
];
export const SYSTEM = 'You are a robot arm controller.';
export const CALL_TEXT = '<tool_call>\n{"name": "move", "arguments": {"x": 1}}\n</tool_call>';

export const SYSTEM_TEXT =
  '<|im_start|>system\nYou are a robot arm controller.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
  'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
  '{"type": "function", "function": {"name": "move", "description": "Move the arm", "parameters": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}}\n' +
  '{"type": "function", "function": {"name": "say", "description": "Speak é", "parameters": {"type": "object", "properties": {"text": {"type": "string"}}}}}\n' +
  '</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
  '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n';
export const CALL_TURN_TEXT = '<|im_start|>assistant\n' + CALL_TEXT + '<|im_end|>\n';
export const RESPONSE_TEXT = '<|im_start|>user\n<tool_response>\n{"ok": true}\n</tool_response>\n<tool_response>\ndone\n</tool_response><|im_end|>\n';

export const RESULTS: ChatMessage[] = [
  { role: 'tool', content: '{"ok": true}', toolName: 'move', toolCallId: 'call_0' },
  { role: 'tool', content: 'done', toolName: 'say', toolCallId: 'call_1' },
];
