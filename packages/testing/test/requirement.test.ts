// requirement(): a met requirement runs the test; a missing one fails in CI and skips, with a warning, elsewhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCi, requirement } from '../src/index.js';

function fakeTest() {
  const skipped: (string | undefined)[] = [];
  return { skipped, t: { skip: (message?: string) => void skipped.push(message) } };
}

test('isCi: CI=true and other non-empty values are CI; unset, empty, 0 and false are not', () => {
  for (const value of ['true', '1', 'yes', 'TRUE']) assert.equal(isCi({ CI: value }), true, value);
  for (const value of [undefined, '', '0', 'false', 'False']) assert.equal(isCi({ CI: value }), false, String(value));
});

test('a met requirement neither skips nor warns', () => {
  const { skipped, t } = fakeTest();
  const warnings: string[] = [];
  assert.equal(requirement(t, true, 'no chromium', { env: { CI: 'true' }, warn: (m) => warnings.push(m) }), true);
  assert.deepEqual([skipped, warnings], [[], []]);
});

test('a missing requirement fails in CI, naming what is missing, and does not skip', () => {
  const { skipped, t } = fakeTest();
  assert.throws(
    () => requirement(t, false, 'no /usr/bin/chromium: install chromium', { env: { CI: 'true' } }),
    /no \/usr\/bin\/chromium: install chromium \(CI is set/,
  );
  assert.deepEqual(skipped, []);
});

test('a missing requirement outside CI skips and warns, loudly', () => {
  const { skipped, t } = fakeTest();
  const warnings: string[] = [];
  assert.equal(requirement(t, false, 'no driver', { env: {}, warn: (m) => warnings.push(m) }), false);
  assert.deepEqual(skipped, ['no driver']);
  assert.deepEqual(warnings, ['SKIPPED: no driver (in CI, with CI=true, this fails)']);
});
