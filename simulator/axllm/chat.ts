/**
 * The registered chat callback of main.cpp's serve mode, run detached from the HTTP handler [M, R]:
 * log the request, turn messages into history (failure → `Failed to parse chat messages.`), add the
 * config system prompt, resolve max_tokens/sampling/thinking, run the engine, and push pieces or the
 * final text to the provider. A vanished stream client makes every further piece log
 * `provider not writable` while the generation runs on to EOS or max_tokens.
 */
import type { QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import type { RequestLog } from '../request-log';
import type { AxllmConfig } from './config';
import type { AxEngine } from './engine';
import type { AxllmKnobs } from './knobs';
import type { AxLogger } from './logger';
import { addJpegColours, type MediaInfo } from './media';
import { MessagesError, parseMessages, type Turn } from './messages';
import { lastUserText, replyIds } from './reply';
import { outputMaxTokens, resolveSampling, type ChatRequest } from './request';
import { parseToolCall, scriptedText, toolsOn, type ToolCall } from './tools';

export const EMPTY_REPLY_MESSAGE = '模型运行失败，请重新尝试。';

export type OutputChunk =
  | { kind: 'delta'; text: string }
  | { kind: 'final'; text: string }
  | { kind: 'tools'; calls: ToolCall[] }
  | { kind: 'error'; code: string; message: string };

export interface Provider {
  isWritable(): boolean;
  push(chunk: OutputChunk): void;
  end(): void;
}

export interface ChatDeps {
  cfg: AxllmConfig;
  knobs: AxllmKnobs;
  engine: AxEngine;
  tokenizer: QwenTokenizer;
  log: AxLogger;
  requestLog: RequestLog;
  imageTokens: number;
}

let nextId = 1;

function withSystemPrompt(turns: Turn[], systemPrompt: string): Turn[] {
  if (systemPrompt === '' || turns.some((t) => t.role === 'system')) return turns;
  return [{ role: 'system', text: systemPrompt, media: [] }, ...turns];
}

export async function runChat(req: ChatRequest, d: ChatDeps, provider: Provider): Promise<void> {
  const { log, cfg } = d;
  if (!provider.isWritable()) {
    log.e('operator():2210', 'provider not writable');
    return;
  }
  const thinking = req.thinking ?? cfg.thinking;
  log.i(
    'operator():2218',
    `OpenAI chat request: model=${req.model ?? ''} stream=${req.stream ? 1 : 0} max_tokens=${req.maxTokens} has_temperature=${req.hasTemperature ? 1 : 0} temperature=${req.temperature.toFixed(4)} has_top_p=${req.hasTopP ? 1 : 0} top_p=${req.topP.toFixed(4)} has_enable_thinking=${req.thinking !== undefined ? 1 : 0} thinking_mode=${thinking} messages=${req.messages.length} stop=${req.stop.length}`,
  );
  const fail = (code: string, message: string): void => {
    provider.push({ kind: 'error', code, message });
    provider.end();
  };
  const tools = toolsOn(req, d.knobs) ? true : undefined;
  let turns: Turn[];
  try {
    // PR56 builds (the tool knob) accept tool results and assistant tool_calls turns.
    turns = parseMessages(req.messages, d.knobs.nativeTools ? (d.knobs.toolCall ?? d.knobs.toolScript) : undefined);
    if (turns.length === 0) throw new MessagesError('messages is empty');
  } catch (e) {
    if (!(e instanceof MessagesError)) throw e;
    log.e('handle_api_messages:1905', e.message);
    log.e('operator():2262', 'handle_body failed');
    fail('invalid_request_error', 'Failed to parse chat messages.');
    return;
  }
  turns = withSystemPrompt(turns, cfg.systemPrompt);
  const maxTokens = outputMaxTokens(req, cfg.serverDefaultMaxTokens, cfg.serverMaxOutputTokens, (from, to) => log.i('resolve_chat_output_max_tokens:1960', `Clamp max_tokens from ${from} to ${to} by config`));
  const sampling = resolveSampling(req, d.knobs.temperatureZeroBug);
  const rendered = d.tokenizer.applyChatTemplate(turns.map((t) => ({ role: t.role, content: t.text })), true);
  const promptText = thinking === 'no_think' ? `${rendered}<think>\n\n</think>\n\n` : rendered;
  const scripted = scriptedText(req, d.knobs, promptText, maxTokens);
  const mediaInfo = turns.flatMap((t) => t.media);
  if (mediaInfo.some((m) => m.format === 'jpeg')) await addJpegColours(mediaInfo);
  const media = mediaInfo.length;
  // An image stands for imageTokens ids derived from its bytes: the same image, the same ids.
  const promptIds = [...d.tokenizer.encode(promptText), ...mediaInfo.flatMap((m) => Array<number>(d.imageTokens).fill(-1 - parseInt(m.sha256.slice(0, 6), 16)))];
  const promptTokens = promptIds.length;
  const id = nextId++;
  d.requestLog.append({ event: 'chat', id, stream: req.stream, model: req.model ?? '', max_tokens: maxTokens, sampling, thinking, prompt_tokens: promptTokens, media, images: mediaInfo.map(imageEntry), tools: tools !== undefined });
  const fault = d.knobs.sim.faultPrompt;
  // AX650_SIM_FAULT_PROMPT narrows the generate-time faults to the turns that ask with it.
  const faulty = fault === undefined || lastUserText(turns).includes(fault);
  const reply = replyIds({ promptText, turns, thinking, greedy: sampling.mode === 'greedy', scripted }, d.knobs.sim, (t) => d.tokenizer.encode(t));

  if (req.stream) {
    let streamedAny = false;
    let held = '';
    const onText = (piece: string): void => {
      if (!provider.isWritable()) {
        log.e('operator():2290', 'provider not writable');
        return;
      }
      // With tools on, a reply that turns into a <tool_call> is held back and sent as one chunk.
      if (tools !== undefined && (held !== '' || piece.includes('<tool_call>'))) {
        held += piece;
        return;
      }
      streamedAny = true;
      provider.push({ kind: 'delta', text: piece });
      log.printFlush(piece);
    };
    const outcome = await d.engine.run({ id, promptIds, reply, maxTokens, onText, faulty });
    if (outcome.error !== '') {
      log.w('operator():2318', `Returning user-facing chat error: ${outcome.error}`);
      if (!streamedAny) provider.push({ kind: 'error', code: 'model_error', message: outcome.error });
    }
    const calls = held !== '' ? parseToolCall(held) : undefined;
    if (calls && provider.isWritable()) {
      provider.push({ kind: 'tools', calls });
    } else if (held !== '' && provider.isWritable()) {
      streamedAny = true;
      provider.push({ kind: 'delta', text: held });
    }
    if (streamedAny && !calls) provider.push({ kind: 'final', text: '' });
    provider.end();
    return;
  }

  const outcome = await d.engine.run({ id, promptIds, reply, maxTokens, onText: null, faulty });
  if (outcome.error !== '') {
    log.w('operator():2345', `Returning user-facing chat error: ${outcome.error}`);
    fail('model_error', outcome.error);
    return;
  }
  if (outcome.text === '') {
    log.w('operator():2351', 'Returning user-facing chat error: empty model response');
    fail('model_error', EMPTY_REPLY_MESSAGE);
    return;
  }
  log.printFlush(outcome.text);
  const calls = tools !== undefined ? parseToolCall(outcome.text) : undefined;
  provider.push(calls ? { kind: 'tools', calls } : { kind: 'final', text: outcome.text });
  provider.end();
}

/** What the request log says of each image that reached the simulated encoder (tests check the downscale with it). */
function imageEntry(m: MediaInfo): { format: string; width: number | null; height: number | null; bytes: number; mean?: [number, number, number] } {
  return { format: m.format, width: m.width ?? null, height: m.height ?? null, bytes: m.bytes, ...(m.meanColour ? { mean: m.meanColour } : {}) };
}
