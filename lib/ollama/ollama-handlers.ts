/**
 * Ollama's native endpoints. Shapes follow Ollama's `api` types field for field, because
 * ollama-python validates them with pydantic (message.role and model_info are required,
 * durations must be integers) and Open WebUI merges models by `model`.
 */
import { actionAsk, runActionTurn, type ActionAsk } from './action-turn';
import { ollamaToolCalls } from './action-shapes';
import { checkToolsWithFormat, readOllamaFormat, readTools } from './actions-input';
import type { ApiContext, Exchange } from './context';
import { HttpError, readJsonBody, sendJson, sendText, sendError } from './http-io';
import { runJob, toHttpError, transcriptSpec, waitUntilLoaded, withImages, type JobSpec } from './job-bridge';
import { attachImages, ollamaImages } from '../vision/api-images';
import { prepareForRuntime } from '../vision/for-runtime';
import type { ImageInput } from '../vision/source';
import { ollamaDoneReason, ollamaMetrics } from './metrics';
import { mapOllamaOptions, parseKeepAlive } from './options';
import { NdjsonStream } from './stream';
import { splitThinking, ThinkSplitter, type SplitText } from './think';
import type { JobResult } from '../runtime/types';
import { optBool, optString, readMessages, rejectUnsupported, badType, type JsonObject } from './validate';

export function root(_ctx: ApiContext, ex: Exchange): void {
  sendText(ex.res, 200, 'Ollama is running');
}

export function version(ctx: ApiContext, ex: Exchange): void {
  sendJson(ex.res, 200, { version: ctx.version });
}

export function tags(ctx: ApiContext, ex: Exchange): void {
  sendJson(ex.res, 200, { models: [ctx.model.tagsEntry()] });
}

export function ps(ctx: ApiContext, ex: Exchange): void {
  sendJson(ex.res, 200, { models: ctx.model.loaded() ? [ctx.model.psEntry()] : [] });
}

/** `name` is the deprecated spelling of `model` that older clients still send. */
function requestedModel(body: JsonObject): string {
  const model = optString(body, 'model') ?? optString(body, 'name');
  if (model === undefined || model.trim() === '') throw new HttpError(400, 'model is required');
  return model;
}

export async function show(ctx: ApiContext, ex: Exchange): Promise<void> {
  const body = await readJsonBody(ex.req, ctx.bodyLimit);
  ctx.model.check(requestedModel(body));
  optBool(body, 'verbose');
  sendJson(ex.res, 200, ctx.model.showBody());
}

/** Ollama takes `think` as a boolean or an effort level ("high", "medium", "low"); any level means "think". */
function readThink(body: JsonObject): boolean | undefined {
  const v = body.think;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'high' || v === 'medium' || v === 'low') return true;
  throw badType('think', 'true, false, "high", "medium" or "low"', v);
}

interface Common {
  model: string;
  stream: boolean;
  keepAlive: number | undefined;
  think: boolean | undefined;
}

function readCommon(ctx: ApiContext, body: JsonObject, unsupported: readonly string[]): Common {
  const model = requestedModel(body);
  ctx.model.check(model);
  rejectUnsupported(body, model, unsupported);
  return { model, stream: optBool(body, 'stream') ?? true, keepAlive: parseKeepAlive(body), think: readThink(body) };
}

type Kind = 'generate' | 'chat';

function piece(kind: Kind, text: SplitText): JsonObject {
  if (kind === 'generate') return text.thinking ? { response: text.content, thinking: text.thinking } : { response: text.content };
  const message: JsonObject = { role: 'assistant', content: text.content };
  if (text.thinking) message.thinking = text.thinking;
  return { message };
}

/** Empty prompt (generate) or no messages (chat): Ollama's load / unload request. */
async function answerLoad(ctx: ApiContext, ex: Exchange, kind: Kind, c: Common): Promise<void> {
  await waitUntilLoaded(ctx.runner, ex.signal);
  ctx.model.use(c.keepAlive)();
  const reason = c.keepAlive === 0 ? 'unload' : 'load';
  sendJson(ex.res, 200, {
    model: c.model,
    created_at: new Date().toISOString(),
    ...piece(kind, { thinking: '', content: '' }),
    done: true,
    done_reason: reason,
  });
}

/** The whole reply of a structured turn, once validated: its text, thinking and tool calls in one piece. */
async function actionPiece(ctx: ApiContext, ex: Exchange, kind: Kind, c: Common, spec: JobSpec, ask: ActionAsk): Promise<{ piece: JsonObject; result: JobResult }> {
  const reply = await runActionTurn(ctx, { ...spec, think: c.think }, ask, ex);
  const text = reply.result.text;
  const p = piece(kind, c.think ? splitThinking(text) : { thinking: '', content: text });
  if (kind === 'chat' && reply.toolCalls.length > 0) (p.message as JsonObject).tool_calls = ollamaToolCalls(reply.toolCalls);
  return { piece: p, result: reply.result };
}

async function answerJob(ctx: ApiContext, ex: Exchange, kind: Kind, c: Common, spec: JobSpec, ask?: ActionAsk): Promise<void> {
  const release = ctx.model.use(c.keepAlive);
  const out = c.stream ? new NdjsonStream(ex.res) : null;
  const splitter = out && c.think ? new ThinkSplitter() : null;
  const head = (): JsonObject => ({ model: c.model, created_at: new Date().toISOString() });
  const emit = (text: SplitText): void => {
    if (out && (text.content || text.thinking)) out.write({ ...head(), ...piece(kind, text), done: false });
  };
  try {
    let result: JobResult;
    let whole: JsonObject;
    if (ask) {
      // Held back until validated; a stream then gets it as one chunk before the final one, as Ollama streams tool calls.
      ({ piece: whole, result } = await actionPiece(ctx, ex, kind, c, spec, ask));
      out?.write({ ...head(), ...whole, done: false });
    } else {
      result = await runJob(ctx, { ...spec, think: c.think }, ex, (delta) =>
        emit(splitter ? splitter.push(delta) : { thinking: '', content: delta }),
      );
      if (splitter) emit(splitter.flush());
      whole = piece(kind, c.think ? splitThinking(result.text) : { thinking: '', content: result.text });
    }
    const final = {
      ...head(),
      ...(out ? piece(kind, { thinking: '', content: '' }) : whole),
      done: true,
      done_reason: ollamaDoneReason(result.stats.doneReason),
      ...ollamaMetrics(result.stats, performance.now() - ex.startedAt),
    };
    if (out) {
      out.write(final);
      out.end();
    } else {
      sendJson(ex.res, 200, final);
    }
  } catch (e) {
    const err = toHttpError(e);
    if (out) out.fail(err);
    else sendError(ex.res, 'ollama', err);
  } finally {
    release();
  }
}

export async function generate(ctx: ApiContext, ex: Exchange): Promise<void> {
  const body = await readJsonBody(ex.req, ctx.bodyLimit);
  const c = readCommon(ctx, body, ['suffix', 'context']);
  const format = readOllamaFormat(body);
  const rawImages = await withImages(async () => ollamaImages(body.images, 'images'));
  const prompt = optString(body, 'prompt') ?? '';
  const system = optString(body, 'system');
  const { sampling, maxTokens } = mapOllamaOptions(body);
  if (prompt === '') return answerLoad(ctx, ex, 'generate', c);
  const spec: JobSpec = { prompt, sampling };
  if (system !== undefined) spec.system = system;
  if (maxTokens !== undefined) spec.maxTokens = maxTokens;
  if (rawImages.length > 0) spec.images = await withImages(() => prepareForRuntime(ctx.runner.info(), rawImages));
  return answerJob(ctx, ex, 'generate', c, spec, actionAsk(undefined, undefined, format));
}

export async function chat(ctx: ApiContext, ex: Exchange): Promise<void> {
  const body = await readJsonBody(ex.req, ctx.bodyLimit);
  const c = readCommon(ctx, body, []);
  const tools = readTools(body);
  const format = readOllamaFormat(body);
  checkToolsWithFormat(tools, format, 'format');
  const rawImages: ImageInput[][] = [];
  const messages = body.messages === undefined || body.messages === null ? [] : readMessages(body.messages, false, rawImages);
  const { sampling, maxTokens } = mapOllamaOptions(body);
  if (messages.length === 0) return answerLoad(ctx, ex, 'chat', c);
  return answerJob(ctx, ex, 'chat', c, transcriptSpec(await withImages(() => attachImages(ctx.runner.info(), messages, rawImages)), sampling, maxTokens), actionAsk(tools, undefined, format));
}
