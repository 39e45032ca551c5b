// Bad input is reported as field, expected and received, with zod's default wording rephrased.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { DepthfoldInputError, parseWith } from '../src/index.js';

const schema = z.object({
  port: z.number().int().min(0).max(65535),
  rate: z.number().positive(),
  tags: z.array(z.string()).min(1),
  name: z.string().regex(/^[a-z]+$/, { error: 'lower-case letters' }),
});
const good = { port: 80, rate: 0.1, tags: ['a'], name: 'x' };

function messageOf(value: unknown): string {
  try {
    parseWith(schema, value, 'options');
  } catch (error) {
    assert.ok(error instanceof DepthfoldInputError);
    return error.message;
  }
  return assert.fail('parsed');
}

test("zod's default messages become 'expected ..., received ...' naming the field", () => {
  assert.equal(messageOf({ ...good, port: 'x' }), 'options: port: expected a number, received "x"');
  assert.equal(messageOf({ ...good, port: 1.5 }), 'options: port: expected an integer, received 1.5');
  assert.equal(messageOf({ ...good, port: 99999 }), 'options: port: expected a number <= 65535, received 99999');
  assert.equal(messageOf({ ...good, rate: 0 }), 'options: rate: expected a number > 0, received 0');
  assert.equal(messageOf({ ...good, tags: [] }), 'options: tags: expected >= 1 items, received []');
  assert.equal(messageOf({ ...good, tags: [1] }), 'options: tags[0]: expected a string, received 1');
});

test("a schema's own message is kept", () => {
  assert.equal(messageOf({ ...good, name: 'X' }), 'options: name: expected lower-case letters, received "X"');
});
