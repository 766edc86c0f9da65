/**
 * Tokenizer parity for ax650-check: the package's tokenizer (what the built-in tokenizer service serves the
 * runtime) against the model folder's own tokenizer files read by the vendor's Python library
 * (transformers' AutoTokenizer, as qwen3_tokenizer_uid.py does, or the `tokenizers` package), on a fixed
 * set of strings. Without Python and one of those libraries only the round trip is checked, and the
 * report says so.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadQwenTokenizer } from '../tokenizer/qwen-tokenizer';

export const PARITY_STRINGS: readonly string[] = [
  'Hello, world!',
  "The robot's gripper can't reach it; it'll need 3.5 cm more.",
  'Move the arm to (120, -45, 300) and close the gripper.',
  '你好，世界！机器人正在移动手臂。',
  '日本語のテキストとカタカナ、ひらがな。',
  'Ünïcödé àccents and ß, Ø, Æ.',
  '😀 🦜 👩‍👩‍👧‍👦 🤖 👍🏽',
  'function add(a, b) {\n  return a + b;\n}\n',
  '{"prompt": "hi", "options": {"temperature": 0.7}}',
  '    four leading spaces\t\ttabs\n\n\nnewlines',
  '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
];

const PYTHON_REFERENCE = `
import json, sys
folder = sys.argv[1]
strings = json.load(sys.stdin)
try:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(folder)
    enc = lambda s: tok.encode(s, add_special_tokens=False)
    lib = "transformers"
except ImportError:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        sys.stderr.write("neither transformers nor tokenizers is installed")
        sys.exit(3)
    tok = Tokenizer.from_file(folder + "/tokenizer.json")
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids
    lib = "tokenizers"
print(json.dumps({"lib": lib, "ids": [list(enc(s)) for s in strings]}))
`;

export interface ParityResult {
  /** Strings whose decode(encode(s)) is s again. */
  roundTrip: number;
  total: number;
  /** null: no Python reference could be run (`why` says why). */
  reference: { lib: string; identical: number; mismatches: string[] } | null;
  why?: string;
}

function pythonReference(folder: string, python: string): { lib: string; ids: number[][] } | string {
  const r = spawnSync(python, ['-c', PYTHON_REFERENCE, folder], { input: JSON.stringify(PARITY_STRINGS), encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `${python} could not be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return `${python}: ${(r.stderr || `exit ${r.status}`).trim().split('\n').pop()}`;
  try {
    return JSON.parse(r.stdout) as { lib: string; ids: number[][] };
  } catch {
    return `${python} printed no ids`;
  }
}

export async function checkTokenizerParity(modelDir: string, python = 'python3'): Promise<ParityResult> {
  const tok = await loadQwenTokenizer(modelDir);
  const ours = PARITY_STRINGS.map((s) => tok.encode(s));
  const roundTrip = PARITY_STRINGS.filter((s, i) => tok.decode(ours[i]!) === s).length;
  const ref = pythonReference(path.join(modelDir, 'qwen3_tokenizer'), python);
  if (typeof ref === 'string') return { roundTrip, total: PARITY_STRINGS.length, reference: null, why: ref };
  const mismatches = PARITY_STRINGS.filter((_, i) => JSON.stringify(ref.ids[i]) !== JSON.stringify(ours[i]));
  return { roundTrip, total: PARITY_STRINGS.length, reference: { lib: ref.lib, identical: PARITY_STRINGS.length - mismatches.length, mismatches } };
}
