/** The strings the tokenizer tests encode: hand-picked hard cases plus a seeded mix of scripts, emoji, code, whitespace and special tokens. */
export const LISTED = [
  'Hello, world!',
  "The robot's gripper can't reach it; it'll need 3.5 cm more.",
  'Move the arm to (120, -45, 300) and close the gripper.',
  'UPPER lower MiXeD   CaSe',
  '你好，世界！',
  '机器人正在移动手臂。请稍候……',
  '日本語のテキストとカタカナ、ひらがな。',
  '한국어 문장도 있습니다.',
  '龘鱻䨻𠀀𪚥',
  'Ünïcödé àccents and ß, Ø, Æ.',
  'e\u0301 (decomposed) vs é (composed)',
  '😀😃😄 🦜🫠🪿 👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽',
  'Mixed 混合 text with emoji 🤖 and numbers 12345',
  'function add(a, b) {\n  return a + b;\n}\n',
  'def f(x):\n\tif x > 0:\n\t\treturn x ** 2\n\treturn -x\n',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); }',
  '{"prompt": "hi", "options": {"temperature": 0.7, "top_k": 40}}',
  'SELECT * FROM robots WHERE id = 7 AND name LIKE \'%arm%\';',
  '    four leading spaces',
  'trailing spaces     ',
  'tabs\t\tand\ttabs',
  '\n\n\nnewlines\n\n',
  '\r\nwindows\r\nline endings\r\n',
  '                                                  ',
  ' \t \n \r\n \u00a0 \u3000 mixed whitespace',
  '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
  '<|endoftext|><|im_start|><|im_end|><|object_ref_start|><|box_end|><|vision_pad|>',
  '<think>\n\n</think>\n\nAnswer',
  '<tool_call>{"name": "move"}</tool_call><tool_response>ok</tool_response>',
  'not special: <|im_start |> <im_end> <|unknown|>',
  'text/no_think',
  '1234567890 3.14159 -0.001 1e10 0xff',
  '!!!???...,,,;;;:::---___',
  'URL: https://example.invalid/path?q=1&r=2#frag',
  "I'm, you're, we've, they'd, she'll, it's, don't",
  "I'M YOU'RE WE'VE",
  'a',
  '',
  '\u0000\u0001\u001f control characters',
  'Zero\u200bwidth\u200cjoiners\u200d',
  'Ωmega ∑ ∫ √ ∞ ≈ ≠ ≤ ≥',
  'العربية والعبرية עברית',
  'Русский текст и ёлка',
  'ภาษาไทย และ हिन्दी',
];

export const POOLS = {
  english: ['the', 'robot', 'moves', 'quickly', 'gripper', 'arm', 'sensor', "isn't", 'ready', 'NPU', 'token', 'Qwen'],
  cjk: ['你', '好', '机器人', '移动', '手臂', '龘', '鱻', '日本', 'カタ', '한국', '中文', '。', '，'],
  emoji: ['😀', '🦜', '🫠', '🪿', '🤖', '👍🏽', '🏳️‍🌈', '❤️', '🫡', '🪐'],
  code: ['{', '}', '()', '=>', 'const', 'x', '+=', ';', '[]', '"str"', '//', '#', '\\n', '0x1f', '::'],
  space: [' ', '  ', '\t', '\n', '\r\n', '   \n', '\n\n\n', '\u00a0', '\u3000', '        '],
  special: ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>', '<tool_call>', '/no_think'],
};

/** A small deterministic PRNG (mulberry32) so the generated corpus is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generated(count: number): string[] {
  const rnd = prng(650);
  const pools = Object.values(POOLS);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  return Array.from({ length: count }, () => {
    const parts: string[] = [];
    const n = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < n; i++) parts.push(pick(pick(pools)), rnd() < 0.4 ? ' ' : '');
    return parts.join('');
  });
}
