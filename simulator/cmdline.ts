/**
 * The command line of `main_api_axcl_aarch64` as built from `gregm123456/ax-llm` `src/main_api.cpp`
 * @086f4e6 with the tanakh `cmdline.hpp` parser the vendor vendors: same flags, defaults, value
 * readers (stringstream `>>` that must reach eof), error texts, usage layout and exit codes.
 */

type FlagType = 'string' | 'int' | 'bool';

interface FlagSpec {
  name: string;
  type: FlagType;
  desc: string;
  required: boolean;
  def: string;
}

export const DEFAULT_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

/** Registration order of main_api.cpp; defaults are the AXCL `LLMAttrType` initialisers. */
const FLAGS: readonly FlagSpec[] = [
  { name: 'system_prompt', type: 'string', desc: 'system prompt', required: false, def: DEFAULT_SYSTEM_PROMPT },
  { name: 'template_filename_axmodel', type: 'string', desc: 'axmodel path template', required: false, def: 'tinyllama-int8/tinyllama_l%d.axmodel' },
  { name: 'filename_post_axmodel', type: 'string', desc: 'post axmodel path', required: false, def: 'tinyllama-int8/tinyllama_post.axmodel' },
  { name: 'url_tokenizer_model', type: 'string', desc: 'tokenizer model path', required: false, def: 'http://127.0.0.1:12345' },
  { name: 'filename_tokens_embed', type: 'string', desc: 'tokens embed path', required: false, def: 'tinyllama.model.embed_tokens.weight.bfloat16.bin' },
  { name: 'axmodel_num', type: 'int', desc: 'num of axmodel(for template)', required: false, def: '22' },
  { name: 'tokens_embed_num', type: 'int', desc: 'tokens embed num', required: false, def: '32000' },
  { name: 'tokens_embed_size', type: 'int', desc: 'tokens embed size', required: false, def: '2048' },
  { name: 'use_mmap_load_embed', type: 'bool', desc: 'it can save os memory', required: false, def: '0' },
  { name: 'devices', type: 'string', desc: 'devices id,for example: "0,1,2,3" ', required: true, def: '0,1,2,3' },
];

export interface RuntimeArgs {
  systemPrompt: string;
  templateFilenameAxmodel: string;
  filenamePostAxmodel: string;
  urlTokenizerModel: string;
  filenameTokensEmbed: string;
  axmodelNum: number;
  tokensEmbedNum: number;
  tokensEmbedSize: number;
  useMmapLoadEmbed: boolean;
  devices: string;
}

export type ParseOutcome =
  | { kind: 'run'; args: RuntimeArgs }
  | { kind: 'exit'; code: number; stderr: string };

/** `std::stringstream ss; ss << s; ss >> int` and require eof: leading blanks skipped, nothing may follow. */
function readInt(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  return value >= -2147483648 && value <= 2147483647 ? value : undefined;
}

/** `>> bool` without boolalpha reads an integer that must be 0 or 1, so `true` is invalid. */
function readBool(text: string): boolean | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  return value === 0 ? false : value === 1 ? true : undefined;
}

function valid(spec: FlagSpec, value: string): boolean {
  if (spec.type === 'int') return readInt(value) !== undefined;
  if (spec.type === 'bool') return readBool(value) !== undefined;
  return true;
}

export function usage(progName: string): string {
  const all = [...FLAGS.map((f) => ({ name: f.name, short: '', desc: `${f.desc} (${f.type}${f.required ? '' : ` [=${f.def}]`})` })), { name: 'help', short: '?', desc: 'print this message' }];
  const width = Math.max(...all.map((f) => f.name.length));
  const required = FLAGS.filter((f) => f.required).map((f) => `--${f.name}=${f.type} `).join('');
  let out = `usage: ${progName} ${required}[options] ... \noptions:\n`;
  for (const f of all) {
    out += `${f.short ? `  -${f.short}, ` : '      '}--${f.name}${' '.repeat(width + 4 - f.name.length)}${f.desc}\n`;
  }
  return out;
}

export function parseCommandLine(progName: string, argv: readonly string[]): ParseOutcome {
  const byName = new Map(FLAGS.map((f) => [f.name, f]));
  const values = new Map<string, string>();
  const errors: string[] = [];
  let help = false;
  const set = (name: string, value: string | undefined): void => {
    if (name === 'help') {
      if (value === undefined) help = true;
      else errors.push(`option value is invalid: --help=${value}`);
      return;
    }
    const spec = byName.get(name);
    if (!spec) return void errors.push(`undefined option: --${name}`);
    if (value === undefined) return void errors.push(`option needs value: --${name}`);
    if (!valid(spec, value)) return void errors.push(`option value is invalid: --${name}=${value}`);
    values.set(name, value);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=', 2);
      if (eq >= 0) {
        set(arg.slice(2, eq), arg.slice(eq + 1));
        continue;
      }
      const name = arg.slice(2);
      if (name !== 'help' && !byName.has(name)) {
        errors.push(`undefined option: --${name}`);
      } else if (name === 'help') {
        set(name, undefined);
      } else if (i + 1 >= argv.length) {
        errors.push(`option needs value: --${name}`);
      } else {
        set(name, argv[++i]);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      // Only `-?` has a short name; cmdline reports the first unknown letter of a cluster.
      const letters = arg.slice(1);
      const bad = [...letters].find((c) => c !== '?');
      if (bad !== undefined) errors.push(`undefined short option: -${bad}`);
      else help = true;
    }
  }
  // cmdline walks its std::map, so "need option" errors come in name order after the parse errors.
  for (const spec of [...FLAGS].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (spec.required && !values.has(spec.name)) errors.push(`need option: --${spec.name}`);
  }
  const ok = errors.length === 0;
  if ((argv.length === 0 && !ok) || help) return { kind: 'exit', code: 0, stderr: usage(progName) };
  if (!ok) return { kind: 'exit', code: 1, stderr: `${errors[0]}\n${usage(progName)}` };
  const get = (name: string): string => values.get(name) ?? byName.get(name)?.def ?? '';
  return {
    kind: 'run',
    args: {
      systemPrompt: get('system_prompt'),
      templateFilenameAxmodel: get('template_filename_axmodel'),
      filenamePostAxmodel: get('filename_post_axmodel'),
      urlTokenizerModel: get('url_tokenizer_model'),
      filenameTokensEmbed: get('filename_tokens_embed'),
      axmodelNum: readInt(get('axmodel_num')) ?? 0,
      tokensEmbedNum: readInt(get('tokens_embed_num')) ?? 0,
      tokensEmbedSize: readInt(get('tokens_embed_size')) ?? 0,
      useMmapLoadEmbed: readBool(get('use_mmap_load_embed')) ?? false,
      devices: get('devices'),
    },
  };
}

/** `std::stoi` as main() applies it to each comma-separated device id; throws like libstdc++. */
export function parseDevices(devices: string): number[] {
  const items = devices.split(',');
  // std::getline yields no trailing empty item.
  if (items.length > 1 && items[items.length - 1] === '') items.pop();
  return items.map((item) => {
    const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(item);
    if (!m) throw new CxxException('std::invalid_argument', 'stoi');
    const value = Number(m[1]);
    if (value < -2147483648 || value > 2147483647) throw new CxxException('std::out_of_range', 'stoi');
    return value;
  });
}

/** An uncaught C++ exception: the process prints libstdc++'s terminate message and aborts. */
export class CxxException extends Error {
  constructor(readonly typeName: string, readonly what: string) {
    super(what);
  }
}
