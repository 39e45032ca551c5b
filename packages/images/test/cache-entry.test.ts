// The decode cache's entry format (src/node/cache-entry.ts): pixels and failures round-trip, a torn or foreign
// file reads as absent, and a failure's entry never has a pixel entry's length (a fill tells them by size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEADER_BYTES, decodeEntry, encodeBadEntry, encodePixelsEntry } from '../src/node/cache-entry.js';

test('entries round-trip and check their shape', () => {
  const pixels = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i);
  const bytes = encodePixelsEntry(pixels, 4, 3, 3);
  assert.deepEqual([...bytes.subarray(0, 6)], [0x44, 0x46, 0x49, 0x43, 1, 0]);
  assert.deepEqual(decodeEntry(bytes, 4, 3, 3), { kind: 'pixels', pixels });
  assert.equal(decodeEntry(bytes, 3, 4, 3), undefined, 'another shape');
  assert.equal(decodeEntry(bytes.subarray(0, bytes.length - 1), 4, 3, 3), undefined, 'torn');
  assert.equal(decodeEntry(new TextEncoder().encode('DFIC but not an entry'), 4, 3, 3), undefined, 'foreign');
  const bad = encodeBadEntry('corrupt', 'truncated JPEG', 0);
  assert.deepEqual(decodeEntry(bad, 4, 3, 3), { kind: 'bad', failure: 'corrupt', reason: 'truncated JPEG' });
});

test("a failure's entry is padded off a pixel entry's length", () => {
  const natural = encodeBadEntry('empty', 'empty file (0 bytes)', 0).length;
  const padded = encodeBadEntry('empty', 'empty file (0 bytes)', natural);
  assert.equal(padded.length, natural + 1);
  assert.deepEqual(decodeEntry(padded, 1, natural - HEADER_BYTES, 1), {
    kind: 'bad',
    failure: 'empty',
    reason: 'empty file (0 bytes)',
  });
});
