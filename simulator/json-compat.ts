/**
 * How the vendor runtime's nlohmann::json reads request bodies and writes replies, so that the
 * simulator accepts, rejects and crashes on exactly the bodies the real binary does.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** nlohmann's `type_error`: thrown by `get<T>()`; cpp-httplib turns it into an empty 500. */
export class JsonTypeError extends Error {
  constructor(readonly id: number, detail: string) {
    super(`[json.exception.type_error.${id}] ${detail}`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** `json::parse(body, nullptr, false)`: undefined where nlohmann returns a discarded value (bad JSON, bad UTF-8, empty body). */
export function parseBody(body: Buffer): Json | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
}

export function typeName(value: Json | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

export function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `json.contains(key)`: false for anything that is not an object. */
export function contains(value: Json | undefined, key: string): boolean {
  return isObject(value) && Object.prototype.hasOwnProperty.call(value, key);
}

/** `get<float>()` / `get<int>()`: numbers and booleans convert, everything else throws 302. */
export function getNumber(value: Json | undefined): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  throw new JsonTypeError(302, `type must be number, but is ${typeName(value)}`);
}

export function getString(value: Json | undefined): string {
  if (typeof value === 'string') return value;
  throw new JsonTypeError(302, `type must be string, but is ${typeName(value)}`);
}

export function getArray(value: Json | undefined): Json[] {
  if (Array.isArray(value)) return value;
  throw new JsonTypeError(302, `type must be array, but is ${typeName(value)}`);
}

/** A C++ `float` round trip (the runtime stores sampling values as float). */
export function toFloat(value: number): number {
  return Math.fround(value);
}

/** `static_cast<int>` of a double, wrapped to 32 bits like the conversion on aarch64/x86 for in-range values. */
export function toInt(value: number): number {
  return Math.trunc(value) | 0;
}

/** printf `%f`. */
export function formatF(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return value.toFixed(6);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** `json.dump(indent)`: nlohmann objects are std::map, so keys come out sorted; UTF-8 is not escaped. */
export function dump(value: unknown, indent?: number): string {
  return JSON.stringify(sortKeys(value), null, indent);
}
