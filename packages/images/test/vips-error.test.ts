// A decode that fails without a reason (libvips' process-wide error buffer cleared by another thread: sharp says
// "Unknown error") is run once more, so that the error names the reason; other outcomes pass through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNKNOWN_VIPS_ERROR, withVipsReason } from '../src/node/vips-error.js';

/** An operation that fails with each message in turn, then succeeds; it counts its calls. */
function failing(...messages: string[]): { run: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    run: async () => {
      const message = messages[calls++];
      if (message !== undefined) throw new Error(message);
      return 'decoded';
    },
    calls: () => calls,
  };
}

test('a failure without a reason is tried once more, and the second failure, with its reason, is thrown', async () => {
  const op = failing(UNKNOWN_VIPS_ERROR, 'VipsJpeg: premature end of JPEG image');
  await assert.rejects(withVipsReason(op.run), /^Error: VipsJpeg: premature end of JPEG image$/);
  assert.equal(op.calls(), 2);
});

test('a failure with a reason is thrown at once; success is returned at once; one retry at most', async () => {
  const withReason = failing('VipsJpeg: premature end of JPEG image');
  await assert.rejects(withVipsReason(withReason.run), /premature end/);
  assert.equal(withReason.calls(), 1);
  const fine = failing();
  assert.equal(await withVipsReason(fine.run), 'decoded');
  assert.equal(fine.calls(), 1);
  const twice = failing(UNKNOWN_VIPS_ERROR, UNKNOWN_VIPS_ERROR);
  await assert.rejects(withVipsReason(twice.run), new RegExp(UNKNOWN_VIPS_ERROR));
  assert.equal(twice.calls(), 2);
});
