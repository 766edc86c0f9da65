/**
 * Reads the vendor's run scripts (`run_qwen3_4b_int8_ctx_axcl_x86_api.sh` style, reference §1.3)
 * so a model folder can be used as downloaded: the script names the binary and every flag.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Ax650Error } from '../errors';

export interface RunScript {
  /** As written in the script, e.g. `./main_api_axcl_x86` (relative to the model folder). */
  binary: string;
  /** Flag name without the leading dashes → value as the shell would pass it. A bare flag gets ''. */
  flags: Record<string, string>;
}

/** Splits one logical shell line into words: single quotes, double quotes with backslash escapes, bare words. */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    } else if (ch === '"') {
      word = word ?? '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) i++;
        word += line[i];
      }
    } else if (ch === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(ch)) {
      if (word !== null) out.push(word);
      word = null;
    } else if (ch === '#' && word === null) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

/** Joins backslash-newline continuations into logical lines. */
function logicalLines(text: string): string[] {
  return text.replace(/\r\n/g, '\n').replace(/\\\n/g, ' ').split('\n');
}

/**
 * Parses the command line that starts the runtime. Leading `VAR=value` assignments and other
 * commands (`cd`, `export`, `set`) are skipped; the first command that carries `--` flags wins.
 * Throws Ax650Error CONFIG_INVALID when the script starts nothing recognisable.
 */
export function parseRunScript(text: string): RunScript {
  for (const line of logicalLines(text)) {
    const words = shellWords(line);
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) words.shift();
    const [binary, ...rest] = words;
    if (binary === undefined || !rest.some((w) => w.startsWith('--'))) continue;
    const flags: Record<string, string> = {};
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i] as string;
      if (!w.startsWith('--')) continue;
      const eq = w.indexOf('=');
      if (eq > 2) {
        flags[w.slice(2, eq)] = w.slice(eq + 1);
        continue;
      }
      const next = rest[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        flags[w.slice(2)] = next;
        i++;
      } else {
        flags[w.slice(2)] = '';
      }
    }
    return { binary, flags };
  }
  throw new Ax650Error('CONFIG_INVALID', 'The run script does not start a runtime binary with --flags; point the node at the model folder\'s run_*_api.sh script or enter the flags by hand.');
}

/** The vendor binary naming: `main_api_axcl_aarch64` (Raspberry Pi 5 and other arm64 hosts), `main_api_axcl_x86` (x64). */
export function binaryArchTag(arch: string = process.arch): 'aarch64' | 'x86' | null {
  if (arch === 'arm64') return 'aarch64';
  if (arch === 'x64') return 'x86';
  return null;
}

export function expectedBinaryName(arch: string = process.arch): string | null {
  const tag = binaryArchTag(arch);
  return tag ? `main_api_axcl_${tag}` : null;
}

/**
 * The binary a run script names, for this CPU: the vendor ships only an x86 `_api.sh`, and Pi users
 * run the same flags with `main_api_axcl_aarch64` (reference §1.1). So when the script names the G1
 * API binary of the other architecture and this CPU's binary is in the folder, that one is used;
 * otherwise the name is kept, and the pre-flight says what is wrong with it.
 */
export async function scriptBinaryFor(scriptBinary: string, dir: string, arch: string = process.arch): Promise<string> {
  const name = scriptBinary.split('/').pop() ?? scriptBinary;
  const expected = expectedBinaryName(arch);
  if (!expected || name === expected || !/^main_api_axcl_(aarch64|x86)$/.test(name)) return name;
  return (await isFile(join(dir, expected))) ? expected : name;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Path of the G1 API binary for this CPU in a model folder, or null when it is not there. */
export async function findBinary(dir: string, arch: string = process.arch): Promise<string | null> {
  const name = expectedBinaryName(arch);
  if (!name) return null;
  const path = join(dir, name);
  return (await isFile(path)) ? path : null;
}

/**
 * The run script to read in a model folder: `*axcl_<arch>*api*.sh` for this CPU first (the
 * vendor ships only an x86 one; M5Stack tells Pi users to copy it as aarch64), then any
 * `run_*api*.sh`. Null when there is none.
 */
export async function findRunScript(dir: string, arch: string = process.arch): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.sh')).sort();
  } catch {
    return null;
  }
  const tag = binaryArchTag(arch) ?? 'aarch64';
  const preferred = names.find((n) => n.includes(`axcl_${tag}`) && /api.*\.sh$/.test(n.slice(n.indexOf(`axcl_${tag}`))));
  const fallback = names.find((n) => /^run_.*api.*\.sh$/.test(n));
  const pick = preferred ?? fallback;
  return pick === undefined ? null : join(dir, pick);
}
