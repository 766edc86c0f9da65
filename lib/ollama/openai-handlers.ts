/**
 * OpenAI-compatible endpoints, framed as Ollama's own /v1 layer frames them
 * (middleware/openai.go): role only on the first chunk, a separate finish chunk, an optional
 * usage chunk with empty choices, then `data: [DONE]`.
 */
import { randomBytes } from 'node:crypto';
import { actionAsk, runActionTurn } from './action-turn';
import { openAiToolCallDeltas, openAiToolCalls } from './action-shapes';
import { checkToolsWithFormat, readResponseFormat, readToolChoice, readTools } from './actions-input';
import type { ApiContext, Exchange } from './context';
import { HttpError, readJsonBody, sendError, sendJson } from './http-io';
import { runJob, toHttpError, transcriptSpec, withImages } from './job-bridge';
import { attachImages } from '../vision/api-images';
import type { ImageInput } from '../vision/source';
import { openAiFinishReason, openAiUsage } from './metrics';
import { mapOpenAiOptions } from './options';
import { SseStream } from './stream';
import type { JobResult, ToolCall } from '../runtime/types';
import { optBool, optNumber, optObject, optString, readMessages, rejectUnsupported } from './validate';

export function listModels(ctx: ApiContext, ex: Exchange): void {
  sendJson(ex.res, 200, { object: 'list', data: [ctx.model.openAiEntry()] });
}

export function getModel(ctx: ApiContext, ex: Exchange, id: string): void {
  ctx.model.check(id);
  sendJson(ex.res, 200, ctx.model.openAiEntry());
}

const FINGERPRINT = 'fp_ax650';

export async function chatCompletions(ctx: ApiContext, ex: Exchange): Promise<void> {
  const body = await readJsonBody(ex.req, ctx.bodyLimit);
  const model = optString(body, 'model');
  if (model === undefined || model === '') throw new HttpError(400, 'model is required');
  ctx.model.check(model);
  if (body.messages === undefined) throw new HttpError(400, "'messages' is a required property");
  const rawImages: ImageInput[][] = [];
  const messages = readMessages(body.messages, true, rawImages);
  if (messages.length === 0) throw new HttpError(400, "[] is too short - 'messages'");
  const n = optNumber(body, 'n', { min: 1, integer: true });
  if (n !== undefined && n > 1) throw new HttpError(400, '"n" greater than 1 is not supported: the NPU runs one reply at a time');
  rejectUnsupported(body, model, ['logit_bias']);
  const tools = readTools(body);
  const toolChoice = readToolChoice(body, tools);
  const format = readResponseFormat(body);
  checkToolsWithFormat(tools, format, 'response_format');
  const ask = actionAsk(tools, toolChoice, format);
  const stream = optBool(body, 'stream') ?? false;
  const includeUsage = optBool(optObject(body, 'stream_options') ?? {}, 'include_usage', 'stream_options.include_usage') ?? false;
  const { sampling, maxTokens } = mapOpenAiOptions(body);

  const spec = transcriptSpec(await withImages(() => attachImages(ctx.runner.info(), messages, rawImages)), sampling, maxTokens);

  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: FINGERPRINT };
  const release = ctx.model.use(undefined);
  const out = stream ? new SseStream(ex.res) : null;
  let roleSent = false;
  const chunk = (delta: Record<string, unknown>): void => {
    out?.write({ ...head, choices: [{ index: 0, delta: roleSent ? delta : { role: 'assistant', ...delta }, logprobs: null, finish_reason: null }] });
    roleSent = true;
  };
  try {
    let result: JobResult;
    let calls: ToolCall[] = [];
    if (ask) {
      // A structured turn is validated whole before any of it leaves: no half tool call, no JSON that fails its schema.
      const reply = await runActionTurn(ctx, spec, ask, ex);
      result = reply.result;
      calls = reply.toolCalls;
      if (result.text || calls.length === 0) chunk({ content: result.text });
      if (calls.length > 0) chunk({ tool_calls: openAiToolCallDeltas(calls) });
    } else {
      result = await runJob(ctx, spec, ex, (text) => {
        if (text) chunk({ content: text });
      });
    }
    const finishReason = calls.length > 0 ? 'tool_calls' : openAiFinishReason(result.stats.doneReason);
    const usage = openAiUsage(result.stats);
    if (out) {
      if (!roleSent) chunk({ content: '' });
      out.write({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }] });
      if (includeUsage) out.write({ ...head, choices: [], usage });
      out.end();
      return;
    }
    const message: Record<string, unknown> = { role: 'assistant', content: calls.length > 0 && result.text === '' ? null : result.text };
    if (calls.length > 0) message.tool_calls = openAiToolCalls(calls);
    sendJson(ex.res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: FINGERPRINT,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage,
    });
  } catch (e) {
    const err = toHttpError(e);
    if (out) out.fail(err);
    else sendError(ex.res, 'openai', err);
  } finally {
    release();
  }
}
