/**
 * What the simulated model answers: a deterministic pick (seeded by the prompt) from a small corpus
 * that mixes English, CJK and emoji, so multi-byte tokens get split across 3-token decode groups.
 * Replies start with Qwen3's empty think block, as the real model does with `/no_think`.
 */

export const THINK_BLOCK = '<think>\n\n</think>\n\n';

const CORPUS: readonly string[] = [
  "I am Qwen, a large-scale language model developed by Alibaba Cloud. I can answer questions, create content, and help with a variety of tasks. What can I assist you with?",
  '你好！我是通义千问，由阿里云开发的大规模语言模型。有什么我可以帮你的吗？😊',
  'The robot arm is ready 🤖. Move the gripper 10 cm forward, then close it slowly. 注意安全！',
  'Sure! Here are three ideas: 1) a line-following robot 🚗, 2) a weather station ☀️🌧️, 3) a voice assistant that speaks 日本語 and English.',
  '1 + 3 = 4',
  'こんにちは！今日はいい天気ですね。🌸 How can I help you today?',
  'Temperature 23.5 °C, humidity 41 %. Everything looks normal ✅ — 一切正常。',
];

/** FNV-1a, so the same prompt always gets the same answer on every platform. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function pickReply(prompt: string, seed: string): string {
  const index = hash(`${seed}\u0000${prompt}`) % CORPUS.length;
  return THINK_BLOCK + (CORPUS[index] ?? '');
}

/**
 * The reply as token ids. A fixed length repeats the corpus after the chosen entry and cuts the ids
 * (possibly inside a multi-byte character, which the tokenizer service must cope with).
 */
export function replyTokenIds(prompt: string, opts: { seed: string; fixed: string | undefined; tokens: number | undefined }, encode: (text: string) => number[]): number[] {
  const text = opts.fixed ?? pickReply(prompt, opts.seed);
  let ids = encode(text);
  if (opts.tokens === undefined) return ids;
  let next = hash(prompt);
  while (ids.length < opts.tokens) {
    ids = ids.concat(encode(` ${CORPUS[next % CORPUS.length] ?? ''}`));
    next++;
  }
  return ids.slice(0, opts.tokens);
}
