// One error type for bad input everywhere: it names the field, what was expected and what was received.
import type { z } from 'zod';

/** Bad input: a config field, a file, a tensor. The message names the field, the expected and the received value. */
export class DepthfoldInputError extends Error {
  /** The field (or path of fields) that is wrong, e.g. `depth` or `metadata.labels[3]`. */
  readonly field: string;
  /** A short statement of what was expected. */
  readonly expected: string;
  /** What was received, rendered for a person. */
  readonly received: string;

  constructor(field: string, expected: string, received: unknown, context?: string) {
    const got = renderValue(received);
    super(`${context ? `${context}: ` : ''}${field}: expected ${expected}, received ${got}`);
    this.name = 'DepthfoldInputError';
    this.field = field;
    this.expected = expected;
    this.received = got;
  }
}

/** Renders a value shortly for an error message. */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === undefined) return 'nothing';
  // JSON writes NaN and the infinities as null, which would hide the very value at fault.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? `${s.slice(0, 117)}...` : s;
  } catch {
    return String(value);
  }
}

/**
 * Parses `value` with a zod schema and turns the first issue into a {@link DepthfoldInputError} naming the field.
 */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, context: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length
    ? issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
        .join('.')
        .replace(/\.\[/g, '[')
    : '(root)';
  let received: unknown = value;
  for (const key of issue.path) received = (received as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  throw new DepthfoldInputError(field, expectedOf(issue), received, context);
}

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/**
 * What a zod issue expected, in the words of our messages. A schema's own message is kept; zod 4's defaults
 * ('Invalid input: expected number, received string', 'Too small: expected number to be >0') are reworded from the
 * issue's fields, since the message already says what was received.
 */
function expectedOf(issue: z.core.$ZodIssue): string {
  const ownMessage = !/^(Invalid (input|option)|Too (big|small)):/.test(issue.message);
  if (ownMessage) return issue.message;
  if (issue.code === 'invalid_type') return issue.expected === 'int' ? 'an integer' : article(issue.expected);
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const small = issue.code === 'too_small';
    const bound = small ? issue.minimum : issue.maximum;
    const op = `${small ? '>' : '<'}${issue.inclusive ? '=' : ''}`;
    if (issue.origin === 'array' || issue.origin === 'set') return `${op} ${bound} items`;
    if (issue.origin === 'string') return `${op} ${bound} characters`;
    return `a number ${op} ${bound}`;
  }
  return issue.message.replace(/^Invalid (input|option): expected /, '');
}
