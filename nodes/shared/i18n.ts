/**
 * Error and status text for the node adapters. Errors come from lib/ with a stable code and an
 * English sentence; the runtime node's catalog may hold a translation per code (`errors.<CODE>`,
 * with the error's params), used when present for the editor's language.
 */
import { Ax650Error } from '../../lib/errors';
import type { NodeAPI } from '../red-types';

/** An Ax650Error whose message a node adapter already took from its own catalog (RED._): shown as it is. */
export class TranslatedError extends Ax650Error {}

export const RUNTIME_NS = '@axnpu/node-red-ax650/ax650-runtime';

export function errorText(RED: NodeAPI, err: Ax650Error): string {
  if (err instanceof TranslatedError) return err.message;
  const key = `${RUNTIME_NS}:ax650-runtime.errors.${err.code}`;
  const translated = RED._(key, err.params);
  // Node-RED returns the key itself when the catalog has no entry; the English sentence from lib is the fallback.
  if (!translated || translated === key || translated.endsWith(`errors.${err.code}`) || /__\w+__/.test(translated)) return err.message;
  // What the runtime printed when it failed (e.g. "axcl_Init(0) failed") is never lost to a shorter translation.
  const cause = err.params['cause'];
  return typeof cause === 'string' && !translated.includes(cause) ? `${translated} (${cause})` : translated;
}

/** An Error for done(): Catch nodes read `message`, flows read `code` (and `tail` for crashes). */
export function nodeError(RED: NodeAPI, err: Ax650Error): Error & { code: string; tail?: string } {
  const e = new Error(errorText(RED, err)) as Error & { code: string; tail?: string };
  e.code = err.code;
  if (err.tail) {
    e.tail = err.tail;
    // Node-RED copies `code` and `cause` (not other fields) into the Catch node's msg.error.
    (e as Error & { cause?: unknown }).cause = { tail: err.tail };
  }
  return e;
}
