/**
 * The package's one error type. Every failure a user can see carries a stable `code`
 * (documented in the README, used by Catch nodes, MQTT error replies and HTTP bodies)
 * and an English sentence a robot builder understands. Node adapters translate the
 * sentence through i18n with the key `ax650.errors.<CODE>` and `params`.
 */
export const ERROR_CODES = [
  'BAD_INPUT',
  'QUEUE_FULL',
  'TIMEOUT',
  'ABORTED',
  'EXPIRED',
  'CONTEXT_FULL',
  'RUNTIME_CRASHED',
  'RUNTIME_FAILED',
  'RUNTIME_STOPPED',
  'RUNTIME_WEDGED',
  'LOAD_STALLED',
  'TOKENIZER_FAILED',
  'DEAD_CARD',
  'BINARY_MISSING',
  'BINARY_LFS_POINTER',
  'BINARY_NOT_EXECUTABLE',
  'BINARY_WRONG_ARCH',
  'MODEL_FILES_MISSING',
  'PORT_IN_USE',
  'TOKENIZER_PORT_IN_USE',
  'DUPLICATE_RUNTIME',
  'NO_CARD',
  'NPU_MEMORY_LOW',
  'CONFIG_INVALID',
  'TOOL_TIMEOUT',
  'TOOL_UNKNOWN',
  'TOOL_ARGS_INVALID',
  'TOOL_NOT_CALLED',
  'SCHEMA_MISMATCH',
  'VISION_UNSUPPORTED',
  'TOOLS_UNSUPPORTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface Ax650ErrorOptions {
  /** Values for the i18n message template (`__name__` placeholders in locales). */
  params?: Record<string, string | number>;
  /** The last lines a child process printed, for crash and load errors. */
  tail?: string;
  cause?: unknown;
}

export class Ax650Error extends Error {
  override readonly name = 'Ax650Error';
  readonly code: ErrorCode;
  readonly params: Record<string, string | number>;
  readonly tail: string | undefined;

  constructor(code: ErrorCode, message: string, options: Ax650ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.params = options.params ?? {};
    this.tail = options.tail;
  }

  toJSON(): { code: ErrorCode; message: string; tail?: string } {
    return this.tail ? { code: this.code, message: this.message, tail: this.tail } : { code: this.code, message: this.message };
  }
}

export function isAx650Error(e: unknown): e is Ax650Error {
  return e instanceof Ax650Error;
}

/** Wraps anything thrown into an Ax650Error, keeping the original as `cause`. */
export function toAx650Error(e: unknown, fallback: ErrorCode = 'INTERNAL'): Ax650Error {
  if (e instanceof Ax650Error) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new Ax650Error(fallback, message, { cause: e });
}
