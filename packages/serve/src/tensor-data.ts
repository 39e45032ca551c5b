// `$tensor_data` to typed arrays: the protocol allows flat or nested (row-major) JSON arrays; every element is
// checked, and the first bad one is named by its position, e.g. `inputs[0].data[0][0][3][7]`.
import { DepthfoldInputError } from '@depthfold/core';

/** What one datatype accepts: a test and the phrase an error uses for it. */
export interface ElementRule {
  readonly accepts: (value: unknown) => value is number;
  readonly expected: string;
}

/** FP32: any number that stays finite as a float32 (JSON has no NaN, but `1e999` parses to Infinity). */
export const FP32_RULE: ElementRule = {
  accepts: (v): v is number => typeof v === 'number' && Number.isFinite(Math.fround(v)),
  expected: 'a finite FP32 number',
};

/** UINT8: an integer from 0 to 255. */
export const UINT8_RULE: ElementRule = {
  accepts: (v): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255,
  expected: 'an integer from 0 to 255 (UINT8)',
};

// The model's inputs have rank 4; deeper nesting is malformed and must not recurse without bound.
const MAX_DEPTH = 8;

// JSON would render Infinity as null; a person reading the error should see the number.
const shown = (v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

/**
 * The number of leaf elements of flat or nested `data`, or -1 when it nests deeper than any tensor we take. Nested
 * data whose shape is known is checked by assertNestedShape instead.
 */
function countElements(data: readonly unknown[], depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let count = 0;
  for (const item of data) {
    if (Array.isArray(item)) {
      const inner = countElements(item, depth + 1);
      if (inner < 0) return -1;
      count += inner;
    } else count += 1;
  }
  return count;
}

/**
 * Checks that nested data has exactly the shape it declares: at depth d every array holds dims[d] items, arrays down
 * to the last dimension and numbers there. A ragged row (400 and 384 values where 28 rows of 28 are declared) would
 * otherwise pass whenever its flattened count happens to match.
 * @throws DepthfoldInputError naming the first array whose length, or the first item whose kind, differs.
 */
function assertNestedShape(data: readonly unknown[], dims: readonly number[], field: string): void {
  const shapeText = `[${dims.join(', ')}]`;
  const visit = (items: readonly unknown[], depth: number, path: string): void => {
    if (items.length !== dims[depth])
      throw new DepthfoldInputError(
        path,
        `${dims[depth]} items (dimension ${depth} of shape ${shapeText}: nested data must have the shape it declares)`,
        `${items.length}`,
        'inference request',
      );
    const last = depth === dims.length - 1;
    items.forEach((item, i) => {
      if (Array.isArray(item) === last)
        throw new DepthfoldInputError(
          `${path}[${i}]`,
          last
            ? `a number (dimension ${depth} is the last of shape ${shapeText})`
            : `an array of ${dims[depth + 1]} items (dimension ${depth + 1} of shape ${shapeText})`,
          Array.isArray(item) ? `an array of ${item.length}` : shown(item),
          'inference request',
        );
      if (!last) visit(item as unknown[], depth + 1, `${path}[${i}]`);
    });
  };
  visit(data, 0, field);
}

/**
 * Reads tensor data into a Float32Array of exactly `count` elements, row-major.
 * @param field - Names the data in errors, e.g. `inputs[0].data`.
 * @param shapeText - The declared shape, for the message when the count is wrong.
 * @param dims - The declared shape: nested data must have it exactly. Without it (typed gRPC contents, always
 *   flat), nested data is only counted.
 * @throws DepthfoldInputError naming the first element that breaks `rule`, the count when it differs, or the first
 *   row of nested data whose length differs from the shape.
 */
export function readTensorData(
  data: readonly unknown[],
  count: number,
  rule: ElementRule,
  field: string,
  shapeText: string,
  dims?: readonly number[],
): Float32Array {
  const out = new Float32Array(count);
  // Flat data, the common case, is read in one loop without counting first.
  if (data.length === count && !data.some(Array.isArray)) {
    for (let i = 0; i < count; i++) {
      const v = data[i];
      if (!rule.accepts(v))
        throw new DepthfoldInputError(`${field}[${i}]`, rule.expected, shown(v), 'inference request');
      out[i] = v;
    }
    return out;
  }
  const nested = data.some(Array.isArray);
  if (nested && dims !== undefined) {
    assertNestedShape(data, dims, field);
  } else {
    const found = countElements(data, 1);
    if (found < 0)
      throw new DepthfoldInputError(
        field,
        `tensor data nested at most ${MAX_DEPTH} deep`,
        'deeper nesting',
        'inference request',
      );
    if (found !== count) {
      throw new DepthfoldInputError(field, `${count} elements (shape ${shapeText})`, found, 'inference request');
    }
  }
  let next = 0;
  const fill = (items: readonly unknown[], path: string): void => {
    items.forEach((v, i) => {
      if (Array.isArray(v)) fill(v, `${path}[${i}]`);
      else if (!rule.accepts(v))
        throw new DepthfoldInputError(`${path}[${i}]`, rule.expected, shown(v), 'inference request');
      else out[next++] = v;
    });
  };
  fill(data, field);
  return out;
}
