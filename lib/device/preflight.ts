/**
 * Checks a model folder before the runtime is spawned, so that the usual field failures (a Git
 * LFS pointer instead of the binary, the x86 binary on a Pi, missing layers, port 8000 taken)
 * are reported as one clear sentence instead of a silent exit or a 2-minute load that fails.
 */
import { access, constants, open, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Ax650Error, type ErrorCode } from '../errors';

export { findBinary, findRunScript, parseRunScript, expectedBinaryName, scriptBinaryFor, type RunScript } from './run-script';

const LFS_HEADER = 'version https://git-lfs.github.com/spec/v1';
/** Real pointers are ~130 bytes; anything this small cannot be a runtime binary or a model layer. */
const LFS_POINTER_MAX_BYTES = 1024;

/** ELF e_machine values by Node's `process.arch`. */
const ELF_MACHINE: Record<string, number> = { arm64: 183, x64: 62, arm: 40, ia32: 3, riscv64: 243 };
const MACHINE_NAME: Record<number, string> = { 183: 'aarch64 (arm64)', 62: 'x86-64', 40: '32-bit ARM', 3: 'x86 (32-bit)', 243: 'RISC-V' };

async function head(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function isLfsPointer(path: string, size: number): Promise<boolean> {
  return size <= LFS_POINTER_MAX_BYTES && (await head(path, LFS_HEADER.length)).toString('latin1') === LFS_HEADER;
}

function elfMachine(h: Buffer): number | null {
  if (h.length < 20 || h[0] !== 0x7f || h.toString('latin1', 1, 4) !== 'ELF') return null;
  return h[5] === 2 ? h.readUInt16BE(18) : h.readUInt16LE(18);
}

/** Binary problems, in the order a user should fix them. A `#!` script is accepted (the simulator's stand-in is one). */
export async function checkBinary(path: string, arch: string = process.arch): Promise<Ax650Error | null> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    return new Ax650Error('BINARY_MISSING', `The runtime program ${path} does not exist. Check the model folder (it must contain ${basename(path)}) or the binary path in the runtime node.`, { params: { path } });
  }
  if (await isLfsPointer(path, size)) {
    return new Ax650Error('BINARY_LFS_POINTER', `${path} is a ${size}-byte Git LFS pointer, not the program: run "git lfs install && git lfs pull" in ${dirname(path)} (or download the file from Hugging Face) and redeploy.`, { params: { path, size } });
  }
  const h = await head(path, 64);
  if (h.toString('latin1', 0, 2) !== '#!') {
    const machine = elfMachine(h);
    const want = ELF_MACHINE[arch];
    if (machine === null) {
      return new Ax650Error('BINARY_WRONG_ARCH', `${path} is not a Linux program (no ELF header); the download is probably damaged: download it again.`, { params: { path, arch } });
    }
    if (want !== undefined && machine !== want) {
      const built = MACHINE_NAME[machine] ?? `machine ${machine}`;
      const hint = arch === 'arm64' ? ' Use main_api_axcl_aarch64 on a Raspberry Pi.' : arch === 'x64' ? ' Use main_api_axcl_x86 on a PC.' : '';
      return new Ax650Error('BINARY_WRONG_ARCH', `${path} is built for ${built}, but this machine is ${arch}.${hint}`, { params: { path, arch, built } });
    }
  }
  try {
    await access(path, constants.X_OK);
  } catch {
    return new Ax650Error('BINARY_NOT_EXECUTABLE', `${path} is not executable: run "chmod +x ${path}" and redeploy.`, { params: { path } });
  }
  return null;
}

/** Every file the runtime flags name, relative to the model folder, with `%d` expanded for 0..axmodel_num-1. */
export function modelFilesFromFlags(flags: Readonly<Record<string, string>>): string[] {
  const files: string[] = [];
  for (const [name, value] of Object.entries(flags)) {
    if (!/filename/.test(name) || value === '') continue;
    if (value.includes('%d')) {
      const count = Number(flags['axmodel_num']);
      if (!Number.isInteger(count) || count <= 0) {
        throw new Ax650Error('CONFIG_INVALID', `--${name} is a template (${value}) but --axmodel_num is not a positive whole number (${flags['axmodel_num'] ?? 'missing'}).`, { params: { flag: 'axmodel_num' } });
      }
      for (let i = 0; i < count; i++) files.push(value.replace(/%d/g, String(i)));
    } else {
      files.push(value);
    }
  }
  return files;
}

const LIST_FIRST = 3;

export async function checkModelFiles(modelDir: string, flags: Readonly<Record<string, string>>): Promise<Ax650Error | null> {
  let files: string[];
  try {
    files = modelFilesFromFlags(flags);
  } catch (e) {
    return e as Ax650Error;
  }
  const missing: string[] = [];
  const pointers: string[] = [];
  await Promise.all(files.map(async (f) => {
    const path = isAbsolute(f) ? f : join(modelDir, f);
    try {
      const st = await stat(path);
      if (!st.isFile()) missing.push(f);
      else if (await isLfsPointer(path, st.size)) pointers.push(f);
    } catch {
      missing.push(f);
    }
  }));
  if (missing.length === 0 && pointers.length === 0) return null;
  const order = (a: string[]): string[] => files.filter((f) => a.includes(f));
  const list = (a: string[]): string => order(a).slice(0, LIST_FIRST).join(', ') + (a.length > LIST_FIRST ? ` and ${a.length - LIST_FIRST} more` : '');
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`${missing.length} of ${files.length} model files are missing in ${modelDir}: ${list(missing)}.`);
  if (pointers.length > 0) parts.push(`${pointers.length} model files are Git LFS pointers, not data: ${list(pointers)}.`);
  parts.push('Download the whole model (git lfs pull, or huggingface-cli download) into that folder and redeploy.');
  return new Ax650Error('MODEL_FILES_MISSING', parts.join(' '), {
    params: { dir: modelDir, missing: missing.length + pointers.length, first: order([...missing, ...pointers])[0] ?? '' },
  });
}

function tryListen(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/**
 * Tries to listen on the port on 0.0.0.0 and 127.0.0.1 (the runtime binds all interfaces, the
 * tokenizer loopback; a listener on either address blocks the other on Linux).
 */
export async function checkPortFree(port: number, code: Extract<ErrorCode, 'PORT_IN_USE' | 'TOKENIZER_PORT_IN_USE'>): Promise<Ax650Error | null> {
  for (const host of ['0.0.0.0', '127.0.0.1']) {
    const e = await tryListen(port, host);
    if (!e || e.code === 'EADDRNOTAVAIL') continue;
    const what = code === 'PORT_IN_USE'
      ? `Port ${port} is already in use on ${host}. The vendor runtime always listens on port ${port}: stop the program holding it (another runtime, or M5Stack's "sudo systemctl stop llm-openai-api") and redeploy.`
      : `Tokenizer port ${port} is already in use on ${host}: choose another tokenizer port in the runtime node, or stop the program holding it.`;
    return new Ax650Error(code, e.code === 'EADDRINUSE' ? what : `Cannot listen on ${host}:${port} (${e.code ?? e.message}). ${what}`, { params: { port, host } });
  }
  return null;
}

export interface PreflightOptions {
  modelDir: string;
  /** The runtime binary; relative paths are taken from modelDir. */
  binary: string;
  /** Runtime flags without dashes (as `parseRunScript` returns them). */
  flags: Readonly<Record<string, string>>;
  /** Default `process.arch`. */
  arch?: string;
  /** Default 8000 (fixed in the vendor binary). null: do not check. */
  runtimePort?: number | null;
  /** The built-in tokenizer's port. null or undefined: do not check. */
  tokenizerPort?: number | null;
}

/** Runs every check and returns all problems (empty when the folder is ready to start). */
export async function collectPreflightProblems(opts: PreflightOptions): Promise<Ax650Error[]> {
  const binary = isAbsolute(opts.binary) ? opts.binary : join(opts.modelDir, opts.binary);
  const runtimePort = opts.runtimePort === undefined ? 8000 : opts.runtimePort;
  const results = [await checkBinary(binary, opts.arch), await checkModelFiles(opts.modelDir, opts.flags)];
  if (runtimePort !== null) results.push(await checkPortFree(runtimePort, 'PORT_IN_USE'));
  if (opts.tokenizerPort !== undefined && opts.tokenizerPort !== null) results.push(await checkPortFree(opts.tokenizerPort, 'TOKENIZER_PORT_IN_USE'));
  return results.filter((r): r is Ax650Error => r !== null);
}

/** Throws the first problem (the one to fix first) as an Ax650Error. */
export async function preflight(opts: PreflightOptions): Promise<void> {
  const [first] = await collectPreflightProblems(opts);
  if (first) throw first;
}
