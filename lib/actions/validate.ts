/**
 * JSON Schema validation for tool arguments and structured replies (ajv, compiled once per schema).
 * The validator's errors come back as one sentence a robot builder, and the model in a repair round,
 * can act on: "speed must be number; the object must have the property \"action\"".
 */
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ax650Error } from '../errors';

// Loaded on the first schema, not with the node files: requiring ajv costs ~40 ms of every Node-RED start.
let ajv: Ajv | null = null;
function validator(): Ajv {
  if (!ajv) {
    const { default: AjvClass } = require('ajv') as typeof import('ajv');
    ajv = new AjvClass({ allErrors: true, strict: false, coerceTypes: false });
  }
  return ajv;
}
const cache = new Map<string, ValidateFunction>();
const CACHE_LIMIT = 256;

export type Validation = { ok: true } | { ok: false; message: string };

/** The compiled validator of a schema; an invalid schema is BAD_INPUT naming `what` (e.g. `tool "move"`). */
export function compileSchema(schema: Record<string, unknown>, what: string): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = cache.get(key);
  if (hit) return hit;
  let fn: ValidateFunction;
  try {
    fn = validator().compile(schema);
  } catch (e) {
    throw new Ax650Error('BAD_INPUT', `The JSON Schema of ${what} is not valid: ${e instanceof Error ? e.message : String(e)}.`, { params: { what }, cause: e });
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, fn);
  return fn;
}

/** Validates `value` against `schema`; the failure message lists every problem, one clause each. */
export function validateAgainst(schema: Record<string, unknown>, value: unknown, what: string): Validation {
  const fn = compileSchema(schema, what);
  if (fn(value)) return { ok: true };
  return { ok: false, message: describeErrors(fn.errors ?? []) };
}

/** ajv's errors as one sentence: `/speed` → `speed`, the root → `the value`. */
export function describeErrors(errors: readonly ErrorObject[]): string {
  const parts = errors.map((e) => {
    const where = e.instancePath === '' ? 'the value' : e.instancePath.slice(1).replace(/\//g, '.');
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'required') return `${where} must have the property "${String(p['missingProperty'])}"`;
    if (e.keyword === 'additionalProperties') return `${where} must not have the property "${String(p['additionalProperty'])}"`;
    if (e.keyword === 'enum') return `${where} must be one of ${JSON.stringify(p['allowedValues'])}`;
    return `${where} ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(parts)].join('; ') || 'the value does not match the schema';
}
