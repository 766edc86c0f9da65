/**
 * Error and status text for the node adapters. Errors come from lib/ with a stable code and an
 * English sentence; the runtime node's catalog may hold a translation per code (`errors.<CODE>`,
 * with the error's params; a `context` param picks `errors.<CODE>_<context>` first, i18next's
 * context), used when present for the editor's language.
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
  // The specific reason is never lost to a shorter translation: what the runtime printed (e.g. "axcl_Init(0) failed"),
  // or, when the translation is a generic sentence that shows none of the error's details (BAD_INPUT's
  // "输入无效，请检查消息属性。" for "msg.image is not a JPEG or PNG image …"), lib's English sentence.
  const context = err.params['context'];
  const generic = RED._(key, context === undefined ? {} : { context }) === translated;
  const cause = typeof err.params['cause'] === 'string' ? err.params['cause'] : generic ? err.message : undefined;
  return cause !== undefined && !translated.includes(cause) ? `${translated} (${cause})` : translated;
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
