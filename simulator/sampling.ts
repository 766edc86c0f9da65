/**
 * The global post-processor and main_api.cpp `set_llm_config`: hyphenated keys only, values kept
 * across requests, logged with `%f`/`%d`, converted like nlohmann (`get<float>`/`get<int>`, so a
 * string throws mid-way and the keys handled before it stay applied).
 */
import type { Logger } from './alog';
import { contains, formatF, getNumber, isObject, toFloat, toInt, type Json } from './json-compat';

export interface PostProcessState {
  enable_temperature: boolean;
  temperature: number;
  enable_repetition_penalty: boolean;
  repetition_penalty: number;
  penalty_window: number;
  enable_top_p_sampling: boolean;
  top_p: number;
  enable_top_k_sampling: boolean;
  top_k: number;
}

/** LLMPostprocess defaults when post_config.json is absent. */
export function defaultPostProcess(): PostProcessState {
  return {
    enable_temperature: false,
    temperature: 1,
    enable_repetition_penalty: false,
    repetition_penalty: 1,
    penalty_window: 20,
    enable_top_p_sampling: false,
    top_p: 0.8,
    enable_top_k_sampling: false,
    top_k: 1,
  };
}

/** load_config: known keys of post_config.json override the defaults. */
export function applyPostConfig(state: PostProcessState, config: Json): void {
  if (!isObject(config)) return;
  const target = state as unknown as Record<string, number | boolean>;
  for (const key of Object.keys(state)) {
    const value = config[key];
    if (typeof value === 'boolean' || typeof value === 'number') target[key] = value;
  }
}

export function setLlmConfig(state: PostProcessState, body: Json, log: Logger): void {
  const obj = isObject(body) ? body : {};
  if (contains(body, 'temperature')) {
    const t = toFloat(getNumber(obj['temperature']));
    log.i('set_llm_config', 237, `temperature: ${formatF(t)}`);
    if (!(t > 0)) log.e('set_llm_config', 244, `temperature: ${formatF(t)} is invalid`);
    state.enable_temperature = t > 0;
    state.temperature = t;
  }
  if (contains(body, 'repetition_penalty')) {
    const rp = toFloat(getNumber(obj['repetition_penalty']));
    log.i('set_llm_config', 251, `repetition_penalty: ${formatF(rp)}`);
    if (rp - 1 < 0.0001) {
      log.i('set_llm_config', 254, `repetition_penalty: ${formatF(rp)} is skip`);
    } else {
      state.enable_repetition_penalty = true;
      state.repetition_penalty = rp;
    }
  }
  if (contains(body, 'top-p')) {
    const p = toFloat(getNumber(obj['top-p']));
    log.i('set_llm_config', 264, `top-p: ${formatF(p)}`);
    if (!(p > 0 && p < 1)) log.e('set_llm_config', 271, `top-p: ${formatF(p)} is invalid`);
    state.enable_top_p_sampling = p > 0 && p < 1;
    state.top_p = p;
  }
  if (contains(body, 'top-k')) {
    const k = toInt(getNumber(obj['top-k']));
    log.i('set_llm_config', 278, `top-k: ${k}`);
    if (!(k > 0)) log.e('set_llm_config', 285, `top-k: ${k} is invalid`);
    state.enable_top_k_sampling = k > 0;
    state.top_k = k;
  }
}
