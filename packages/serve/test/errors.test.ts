// The server's one vocabulary of failures: each class (core's, infer's, the server's own) maps to one HTTP status,
// one gRPC code and one metrics outcome, whichever protocol answers; and the request tracker the close waits on.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { DepthfoldInputError } from '@depthfold/core';
import { InferInputError, InferIntegrityError, InferModelError } from '@depthfold/infer';
import { status } from '@grpc/grpc-js';
import { failureOf, grpcReplyOf, HttpError, OverloadedError, outcomeOf, replyOf } from '../src/errors.js';
import { RequestTracker } from '../src/request-tracker.js';

test('each error class has one HTTP status, gRPC code and outcome', () => {
  const cases: [unknown, number, status, string][] = [
    [new DepthfoldInputError('inputs[0].shape', '[N, 1, 28, 28]', [1]), 400, status.INVALID_ARGUMENT, 'invalid'],
    [new InferInputError('data', 'a Float32Array', 'Uint8Array(1)'), 400, status.INVALID_ARGUMENT, 'invalid'],
    [new InferModelError('m.onnx', 'graph', 'valid ONNX', 'bytes'), 400, status.INVALID_ARGUMENT, 'invalid'],
    [new InferIntegrityError('m.onnx', 'integrity', 'a digest', undefined), 400, status.INVALID_ARGUMENT, 'invalid'],
    [new OverloadedError('queue full'), 503, status.RESOURCE_EXHAUSTED, 'overloaded'],
    [new HttpError(503, 'not ready'), 503, status.UNAVAILABLE, 'unavailable'],
    [new HttpError(404, 'no such model'), 404, status.NOT_FOUND, 'not_found'],
    [new HttpError(413, 'too large'), 413, status.RESOURCE_EXHAUSTED, 'too_large'],
    [new HttpError(408, 'too slow'), 408, status.INVALID_ARGUMENT, 'timeout'],
    [new HttpError(405, 'no POST', { Allow: 'GET' }), 405, status.INVALID_ARGUMENT, 'invalid'],
    [new HttpError(502, 'odd'), 502, status.INVALID_ARGUMENT, 'error'],
    [new Error('boom'), 500, status.INTERNAL, 'error'],
    ['a string', 500, status.INTERNAL, 'error'],
  ];
  for (const [error, httpStatus, grpcCode, outcome] of cases) {
    const failure = failureOf(error);
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    assert.equal(failure.status, httpStatus, what);
    assert.equal(failure.grpcCode, grpcCode, what);
    assert.equal(failure.outcome, outcome, what);
    assert.equal(outcomeOf(error), outcome, what);
    assert.equal(replyOf(error).status, httpStatus, what);
    assert.equal(grpcReplyOf(error).code, grpcCode, what);
  }
});

test('the replies carry the message, headers on HTTP, and an internal error is prefixed (on one line over HTTP)', () => {
  assert.deepEqual(replyOf(new OverloadedError('queue full')), {
    status: 503,
    message: 'queue full',
    headers: { 'Retry-After': '1' },
  });
  assert.deepEqual(replyOf(new HttpError(405, 'no POST', { Allow: 'GET' })).headers, { Allow: 'GET' });
  const input = new DepthfoldInputError('threads', 'an integer >= 0', -1);
  assert.deepEqual(grpcReplyOf(input), { code: status.INVALID_ARGUMENT, details: input.message });
  assert.deepEqual(replyOf(new Error('broke\n  here')), {
    status: 500,
    message: 'internal error: broke here',
    headers: {},
  });
  assert.deepEqual(grpcReplyOf(new Error('broke\n  here')), {
    code: status.INTERNAL,
    details: 'internal error: broke\n  here',
  });
});

function fakeResponse(): ServerResponse & EventEmitter {
  return new EventEmitter() as ServerResponse & EventEmitter;
}

test('the request tracker counts replies until they close and wakes the close when the last one does', async () => {
  const tracker = new RequestTracker();
  assert.equal(await tracker.whenIdle(10_000), true, 'idle at once with nothing in flight');
  const [a, b] = [fakeResponse(), fakeResponse()];
  tracker.track(a);
  tracker.track(b);
  assert.equal(tracker.active, 2);
  assert.equal(tracker.draining, false);
  tracker.drain();
  assert.equal(tracker.draining, true);
  const idle = tracker.whenIdle(10_000);
  a.emit('close');
  assert.equal(tracker.active, 1);
  b.emit('close');
  assert.equal(await idle, true);
  assert.equal(tracker.active, 0);
});

test('the request tracker gives up after the timeout while a request is still in flight', async () => {
  const tracker = new RequestTracker();
  tracker.track(fakeResponse());
  assert.equal(await tracker.whenIdle(20), false);
  assert.equal(tracker.active, 1);
});
