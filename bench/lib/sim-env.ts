/** Simulator settings shared by several rows (knobs of simulator/env.ts). */

/** A Pi 5 with Qwen3-4B: 4.5 tokens/s and the NPU's 128-token prefill chunks at ~1.34 s each. */
export const REALISTIC_SIM: Readonly<Record<string, string>> = {
  AX650_SIM_TOKENS_PER_SEC: '4.5',
  AX650_SIM_PREFILL_MS_PER_TOKEN: '10.46',
};

/** As fast as the package is ever asked to go; prefill nearly free so only delivery costs show. */
export const SATURATION_SIM: Readonly<Record<string, string>> = {
  AX650_SIM_TOKENS_PER_SEC: '1000',
  AX650_SIM_PREFILL_MS_PER_TOKEN: '0.05',
};

/** Distinct prompts so that the simulator's replies differ (it picks them by prompt). */
export function prompts(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `${tag} ${i}: report the gripper state and the next waypoint.`);
}
