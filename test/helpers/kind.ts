/**
 * The runtime kind every node-level test runs against: AX650_TEST_KIND=axllm plays `axllm serve`
 * (2026 folders), anything else the 2025 main_api runtime. scripts/run-tests.mjs runs the tests that
 * run inside Node-RED once per kind on both legs, so the same tests prove both runtimes.
 */
import { readFile } from 'node:fs/promises';
import type { RuntimeKind } from '../../lib/client/runtime-client';
import { createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { createSimModelDir } from '../../simulator/model-dir';

export const TEST_KIND: RuntimeKind = process.env['AX650_TEST_KIND'] === 'axllm' ? 'axllm' : 'main-api';

/** A simulated model folder of the kind under test. */
export async function createKindModelDir(dir: string, opts: { axmodelNum?: number; kind?: RuntimeKind; vision?: boolean } = {}): Promise<void> {
  const kind = opts.kind ?? TEST_KIND;
  const layers = opts.axmodelNum === undefined ? {} : { axmodelNum: opts.axmodelNum };
  // The 2025 layout has no VL folder: `vision` is an axllm folder only (the 2025 runtime has no vision).
  if (kind === 'axllm') await createAxllmSimModelDir(dir, { ...layers, ...(opts.vision ? { vision: true } : {}) });
  else await createSimModelDir(dir, layers);
}

/** The prompts the simulated runtime was sent, in order: G1 `POST /api/generate` bodies, or axllm's last user message. */
export function promptsSent(entries: ReadonlyArray<{ event?: unknown; method?: unknown; path?: unknown; body?: unknown }>): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.event !== 'request' || e.method !== 'POST' || typeof e.body !== 'object' || e.body === null) continue;
    const body = e.body as { prompt?: unknown; messages?: unknown };
    if (e.path === '/api/generate' && typeof body.prompt === 'string') out.push(body.prompt);
    if (e.path === '/v1/chat/completions' && Array.isArray(body.messages)) {
      const last = body.messages[body.messages.length - 1] as { role?: unknown; content?: unknown } | undefined;
      if (last?.role === 'user' && typeof last.content === 'string') out.push(last.content);
    }
  }
  return out;
}

/** Marks a test that checks a behaviour only one kind has (the G1 runtime's single stateful context). */
export function onlyFor(kind: RuntimeKind): { skip: string | false } {
  return { skip: TEST_KIND === kind ? false : `${kind} only (runtime kind under test: ${TEST_KIND})` };
}

/** The kind a running simulator process plays, from its command line (`ax650-sim serve <dir>` is axllm): proves which runtime a flow started. */
export async function kindOfProcess(pid: number): Promise<RuntimeKind> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  return argv[2] === 'serve' ? 'axllm' : 'main-api';
}
