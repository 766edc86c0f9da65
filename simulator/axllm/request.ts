/**
 * ChatRequest from_json [T]: field types converted like nlohmann `get<T>()`. A wrong type throws
 * JsonTypeError outside any try block, which httplib turns into a 500 (checks 4 of §4). Missing
 * fields keep the library defaults (max_tokens 2048, stream false); null counts as missing.
 */
import { getArray, getNumber, getString, isObject, JsonTypeError, toFloat, toInt, typeName, type Json } from '../json-compat';
import { thinkingFrom, type ThinkingMode } from './config';

export const LIBRARY_DEFAULT_MAX_TOKENS = 2048;

export interface ChatRequest {
  model: string | undefined;
  messages: Json[];
  stream: boolean;
  maxTokens: number;
  hasMaxTokens: boolean;
  temperature: number;
  hasTemperature: boolean;
  topP: number;
  hasTopP: boolean;
  stop: string[];
  thinking: ThinkingMode | undefined;
  tools: Json[] | undefined;
  toolChoice: Json | undefined;
}

function getBool(value: Json): boolean {
  if (typeof value === 'boolean') return value;
  throw new JsonTypeError(302, `type must be boolean, but is ${typeName(value)}`);
}

export function parseChatRequest(body: Json): ChatRequest {
  if (!isObject(body)) throw new JsonTypeError(302, `type must be object, but is ${typeName(body)}`);
  const has = (k: string): boolean => body[k] !== undefined && body[k] !== null;
  const field = (k: string): Json => body[k] as Json;
  const stopValue = has('stop') ? field('stop') : undefined;
  const stop = stopValue === undefined ? [] : typeof stopValue === 'string' ? [stopValue] : getArray(stopValue).map(getString);
  for (const k of ['n']) if (has(k)) toInt(getNumber(field(k)));
  for (const k of ['presence_penalty', 'frequency_penalty']) if (has(k)) getNumber(field(k));
  const kwargs = body['chat_template_kwargs'];
  const thinking = thinkingFrom(body) ?? (isObject(kwargs) ? thinkingFrom(kwargs) : undefined);
  return {
    model: has('model') ? getString(field('model')) : undefined,
    messages: has('messages') ? getArray(field('messages')) : [],
    stream: has('stream') ? getBool(field('stream')) : false,
    maxTokens: has('max_tokens') ? toInt(getNumber(field('max_tokens'))) : LIBRARY_DEFAULT_MAX_TOKENS,
    hasMaxTokens: has('max_tokens'),
    temperature: has('temperature') ? toFloat(getNumber(field('temperature'))) : 1,
    hasTemperature: has('temperature'),
    topP: has('top_p') ? toFloat(getNumber(field('top_p'))) : 1,
    hasTopP: has('top_p'),
    stop,
    thinking,
    tools: has('tools') ? getArray(field('tools')) : undefined,
    toolChoice: has('tool_choice') ? field('tool_choice') : undefined,
  };
}

export interface Sampling {
  mode: 'greedy' | 'sample';
  temperature: number | null;
  top_p: number | null;
}

/**
 * Neither temperature nor top_p: greedy. temperature ≤ 0 is greedy in [P]; the builds before PR56
 * turned 0 into 1.0 and sampled (AX650_SIM_TEMP0_BUG, on by default).
 */
export function resolveSampling(req: ChatRequest, temperatureZeroBug: boolean): Sampling {
  if (!req.hasTemperature && !req.hasTopP) return { mode: 'greedy', temperature: null, top_p: null };
  const topP = req.hasTopP ? req.topP : null;
  if (req.hasTemperature && req.temperature <= 0) {
    return temperatureZeroBug ? { mode: 'sample', temperature: 1, top_p: topP } : { mode: 'greedy', temperature: req.temperature, top_p: topP };
  }
  return { mode: 'sample', temperature: req.hasTemperature ? req.temperature : null, top_p: topP };
}

/** resolve_chat_output_max_tokens: the request's value, else the config default, clamped by the config cap. */
export function outputMaxTokens(req: ChatRequest, defaultMax: number, cap: number, clampLog: (from: number, to: number) => void): number {
  let value = req.hasMaxTokens ? req.maxTokens : defaultMax > 0 ? defaultMax : LIBRARY_DEFAULT_MAX_TOKENS;
  if (cap > 0 && (value <= 0 || value > cap)) {
    clampLog(value, cap);
    value = cap;
  }
  return value;
}
