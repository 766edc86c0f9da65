/**
 * How the runtime dies or stops making progress: uncaught C++ exceptions (libstdc++ terminate →
 * SIGABRT, stdio buffers NOT flushed), hard crashes, hangs, and the AXCL host runtime's
 * dead-card report (`gregm123456/Qwen2.5_chat_completion_service_llm8850` `logs/model.log_error`).
 */
import { CxxException } from './cmdline';
import { JsonTypeError } from './json-compat';
import type { StdioBuffer } from './stdout';

function cxxTypeName(error: unknown): string {
  if (error instanceof CxxException) return error.typeName;
  if (error instanceof JsonTypeError) return 'nlohmann::json_abi_v3_11_2::detail::type_error';
  return 'std::runtime_error';
}

/** std::terminate: message to stderr, abort. Whatever stdout still buffers is lost. */
export function terminate(error: unknown): never {
  const what = error instanceof Error ? error.message : String(error);
  process.stderr.write(`terminate called after throwing an instance of '${cxxTypeName(error)}'\n  what():  ${what}\n`);
  process.kill(process.pid, 'SIGABRT');
  // SIGABRT is delivered asynchronously; nothing else may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** A crash with no message (a segfault on the device side): killed at once, buffers lost. */
export function crash(): never {
  process.kill(process.pid, 'SIGKILL');
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

/** Never resolves, and keeps the event loop alive while nothing else would. */
export function hangForever(): Promise<never> {
  setInterval(() => undefined, 1 << 30);
  return new Promise<never>(() => undefined);
}

let wedgedNow = false;

/**
 * A wedged NPU: the decode thread is stuck in a driver call, so `/api/stop` (a flag the stuck loop
 * never reads again) and SIGINT (whose clean path joins that thread) change nothing; polls keep
 * answering done:false. Only SIGTERM/SIGKILL end the process.
 */
export function wedge(): Promise<never> {
  wedgedNow = true;
  return hangForever();
}

export function isWedged(): boolean {
  return wedgedNow;
}

function stamp(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

function deadCardLine(devicePcieBus: number): string {
  return `[${stamp(new Date())}][${process.pid}][W][device manager][listen][292]: device ${devicePcieBus} is dead\n`;
}

/**
 * The heartbeat thread's report as it lands after token text: the decode callback prints tokens with
 * no newline, so the line is glued to the end of the reply so far (`…Echo:[2026-…][W]…is dead`), and
 * it comes in two writes so a reader sees it split across reads.
 */
export async function printDeadCardGlued(out: StdioBuffer, devicePcieBus = 1): Promise<void> {
  const line = deadCardLine(devicePcieBus);
  const cut = line.indexOf('device manager') + 4;
  out.writeFlush(line.slice(0, cut));
  await new Promise((r) => setTimeout(r, 50));
  out.writeFlush(line.slice(cut));
  printAllocationDump(out);
}

/** The AXCL heartbeat thread's report, followed by its dump of the device allocations. */
export function printDeadCard(out: StdioBuffer, devicePcieBus = 1): void {
  out.write(deadCardLine(devicePcieBus));
  printAllocationDump(out);
}

function printAllocationDump(out: StdioBuffer): void {
  const pid = process.pid;
  out.write(`[${stamp(new Date())}][${pid}][C][device][print][18]: allocated device memories: 226\n`);
  for (let i = 0; i < 8; i++) {
    const addr = (0x14c000000 + i * 0x1a00000).toString(16);
    const size = (0x19f0000 + i * 0x1000).toString(16);
    out.write(`[${stamp(new Date())}][${pid}][C][device][print][20]: [0x${addr}] : 0x${size} bytes\n`);
  }
  out.flush();
}
