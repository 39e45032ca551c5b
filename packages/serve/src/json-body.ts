// A request body to JSON, with its nesting bounded before it is parsed: V8's JSON.parse takes any depth, but
// what reads the value afterwards (validation, error messages) recurses, and ~10^5 levels overflow the stack.
import { HttpError } from './errors.js';

/**
 * The deepest nesting of arrays and objects a request may have. An inference request needs 4 levels around
 * nested tensor data of rank 4 (`{"inputs": [{"data": [[[[...]]]]}]}`: 7); the rest is headroom.
 */
export const MAX_JSON_DEPTH = 32;

const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The byte offset at which `body` first nests deeper than `limit`, or -1. Brackets inside strings do not count;
 * malformed JSON is left to JSON.parse to describe.
 */
export function nestingPastLimit(body: Uint8Array, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      if (++depth > limit) return i;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--;
  }
  return -1;
}

/**
 * Parses a JSON request body.
 * @param what - Names the body in errors, e.g. `request body` or `inference header`.
 * @throws HttpError 400 for invalid JSON, an empty body, or nesting deeper than {@link MAX_JSON_DEPTH}.
 */
export function parseJsonBody(body: Buffer, what = 'request body'): unknown {
  const at = nestingPastLimit(body, MAX_JSON_DEPTH);
  if (at >= 0)
    throw new HttpError(
      400,
      `${what}: expected JSON nested at most ${MAX_JSON_DEPTH} deep, received deeper nesting (at byte ${at})`,
    );
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpError(
      400,
      `${what}: expected a JSON inference request, received ${body.length === 0 ? 'an empty body' : `invalid JSON (${reason})`}`,
    );
  }
}
