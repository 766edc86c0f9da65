#!/usr/bin/env node
/**
 * `ax650-tokenizer`: the built-in tokenizer service as a process, a drop-in for
 * `python3 qwen3_tokenizer_uid.py` (same protocol, same default port) for use outside Node-RED.
 */
import { parseArgs } from 'node:util';
import { isAx650Error } from '../errors';
import { DEFAULT_TOKENIZER_HOST, DEFAULT_TOKENIZER_PORT, startTokenizerServer, type TokenizerServer } from './server';
import { DEFAULT_MAX_SESSIONS } from './session-store';

const USAGE = `Usage: ax650-tokenizer --model-dir DIR [--host HOST] [--port PORT] [--max-sessions N]

Serves the AXERA LLM runtime's tokenizer protocol (/get_uid, /bos_id, /eos_id, /encode, /decode, /reset)
with the Qwen3 tokenizer of DIR/qwen3_tokenizer and the chat template of DIR/qwen2.5_tokenizer (or a bundled
Qwen2.5 template).

  --model-dir DIR     model folder (required)
  --host HOST         address to bind (default ${DEFAULT_TOKENIZER_HOST}; the vendor script binds 0.0.0.0)
  --port PORT         port (default ${DEFAULT_TOKENIZER_PORT}; 0 picks a free one)
  --max-sessions N    uid sessions kept (default ${DEFAULT_MAX_SESSIONS}); each /get_uid makes one and the least
                      recently used is dropped beyond N, after which its uid answers {"error": "Invalid uid"}
  -h, --help          this text

Prints "Server running at http://HOST:PORT" once it is listening. Exits 0 on SIGINT/SIGTERM, 1 on errors.`;

function fail(message: string): never {
  process.stderr.write(`ax650-tokenizer: ${message}\n`);
  process.exit(1);
}

function intOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 65535 * 1000) fail(`--${name} must be an integer >= ${min}, got "${value}"\n\n${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'model-dir': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'max-sessions': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const modelDir = values['model-dir'] ?? fail(`--model-dir is required\n\n${USAGE}`);
  const port = intOption('port', values.port, DEFAULT_TOKENIZER_PORT, 0);
  if (port > 65535) fail(`--port must be at most 65535, got ${port}`);
  const maxSessions = intOption('max-sessions', values['max-sessions'], DEFAULT_MAX_SESSIONS, 1);

  let server: TokenizerServer;
  try {
    server = await startTokenizerServer({ modelDir, host: values.host, port, maxSessions });
  } catch (e) {
    fail(isAx650Error(e) ? `${e.code}: ${e.message}` : String(e));
  }
  const stop = (): void => {
    server.close().then(() => process.exit(0), (e: unknown) => fail(`close failed: ${String(e)}`));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Writes to a pipe are synchronous on Linux, but a supervisor waits for this line: end it with the callback anyway.
  await new Promise<void>((resolve) => process.stdout.write(`Server running at ${server.url}\n`, () => resolve()));
}

main().catch((e: unknown) => fail(String(e)));
