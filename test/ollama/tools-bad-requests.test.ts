/**
 * Bad tools / tool_choice / format / response_format / tool turns: each is a 400 in the API's own
 * error dialect with a sentence naming the field, and none reaches the queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, postJson, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.server.close();
});

const M = 'qwen3-ax650';
const user = [{ role: 'user', content: 'Move the arm.' }];
const move = { type: 'function', function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'number' } } } } };
const CALL = { role: 'assistant', content: '', tool_calls: [{ function: { name: 'move', arguments: { x: 1 } } }] };

interface Case {
  name: string;
  path: '/api/chat' | '/api/generate' | '/v1/chat/completions';
  body: Record<string, unknown>;
  error: string;
}

const CASES: Case[] = [
  { name: 'tools is an object', path: '/api/chat', body: { model: M, messages: user, tools: move }, error: '"tools" must be an array of {"type":"function","function":{name, description, parameters}}, not an object' },
  { name: 'tool of another type', path: '/api/chat', body: { model: M, messages: user, tools: [{ type: 'retrieval' }] }, error: '"tools[0].type" must be "function", not "retrieval": only function tools exist here' },
  { name: 'tool without function', path: '/api/chat', body: { model: M, messages: user, tools: [{ type: 'function' }] }, error: '"tools[0].function" must be an object with "name", "description" and "parameters", not undefined' },
  { name: 'tool name with spaces', path: '/api/chat', body: { model: M, messages: user, tools: [{ type: 'function', function: { name: 'move arm' } }] }, error: '"tools[0].function.name" must be 1–64 letters, digits, "_" or "-", not "move arm"' },
  { name: 'tool given twice', path: '/api/chat', body: { model: M, messages: user, tools: [move, move] }, error: '"tools[1].function.name": the tool "move" is given twice' },
  { name: 'parameters not a schema', path: '/api/chat', body: { model: M, messages: user, tools: [{ type: 'function', function: { name: 'move', parameters: 'x:number' } }] }, error: '"tools[0].function.parameters" must be a JSON Schema object like {"type":"object","properties":{…}}, not a string' },
  { name: 'format is "yaml"', path: '/api/chat', body: { model: M, messages: user, format: 'yaml' }, error: '"format" must be "json" or a JSON Schema object, not "yaml"' },
  { name: 'format is a number', path: '/api/generate', body: { model: M, prompt: 'hi', format: 3 }, error: '"format" must be a JSON Schema object like {"type":"object","properties":{…}}, not a number' },
  { name: 'tools and format together', path: '/api/chat', body: { model: M, messages: user, tools: [move], format: 'json' }, error: '"tools" and "format" cannot be used together here: ask for the tool calls first, then for the JSON reply in the next request' },
  { name: 'tool turn without a call before it', path: '/api/chat', body: { model: M, messages: [...user, { role: 'tool', content: '{}' }] }, error: 'a "tool" message must follow the assistant message whose "tool_calls" it answers' },
  { name: 'tool_calls not an array', path: '/api/chat', body: { model: M, messages: [...user, { role: 'assistant', content: '', tool_calls: { name: 'move' } }, { role: 'tool', content: '{}' }] }, error: '"messages[1].tool_calls" must be an array of {"function":{"name","arguments"}}, not an object' },
  { name: 'ends with the tool calls, no results', path: '/api/chat', body: { model: M, messages: [...user, CALL] }, error: 'the last message must have the role "user" (or "tool" after the assistant\'s tool calls): it is the prompt the model answers' },
  { name: 'openai: tool_choice names an unknown tool', path: '/v1/chat/completions', body: { model: M, messages: user, tools: [move], tool_choice: { type: 'function', function: { name: 'grip' } } }, error: '"tool_choice" names the tool "grip", which is not in "tools" (move)' },
  { name: 'openai: tool_choice required without tools', path: '/v1/chat/completions', body: { model: M, messages: user, tool_choice: 'required' }, error: '"tool_choice" is "required" but "tools" is empty: give the tools the model must choose from' },
  { name: 'openai: tool_choice "any"', path: '/v1/chat/completions', body: { model: M, messages: user, tools: [move], tool_choice: 'any' }, error: '"tool_choice" must be "none", "auto", "required" or {"type":"function","function":{"name":"…"}}, not a string' },
  { name: 'openai: arguments not JSON', path: '/v1/chat/completions', body: { model: M, messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'move', arguments: '{x:1' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }] }, error: '"messages[1].tool_calls[0].function.arguments" is not valid JSON: {x:1' },
  { name: 'openai: response_format xml', path: '/v1/chat/completions', body: { model: M, messages: user, response_format: { type: 'xml' } }, error: '"response_format.type" must be "text", "json_object" or "json_schema", not "xml"' },
  { name: 'openai: json_schema without name', path: '/v1/chat/completions', body: { model: M, messages: user, response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, error: '"response_format.json_schema.name" must be 1–64 letters, digits, "_" or "-", not undefined' },
  { name: 'openai: json_schema schema is a string', path: '/v1/chat/completions', body: { model: M, messages: user, response_format: { type: 'json_schema', json_schema: { name: 'arm', schema: 'object' } } }, error: '"response_format.json_schema.schema" must be a JSON Schema object like {"type":"object","properties":{…}}, not a string' },
];

for (const c of CASES) {
  test(`bad structured request: ${c.name} → 400`, async () => {
    const submitted = h.runner.submitted.length;
    const res = await postJson(`${h.url}${c.path}`, c.body);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: unknown };
    if (c.path.startsWith('/v1/')) assert.deepEqual(body.error, { message: c.error, type: 'invalid_request_error', param: null, code: null });
    else assert.deepEqual(body, { error: c.error });
    assert.equal(h.runner.submitted.length, submitted, 'a rejected request must not reach the queue');
  });
}
