// The exported graphs run in ONNX Runtime: folded == unfolded, folded == a JS reference of the network, and the
// folded graph holds only the ops it should.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { createRng } from '@depthfold/core';
import { buildModel, decodeModelProto, encodeModel, FOLDED_OPS, nhwcToNchw, type ModelProto } from '../src/index.js';
import { CASES, type Case, IMAGENET_CASES, randomCheckpoint, randomTensor } from '@depthfold/testing';
import { metadataFor } from './source-writer.js';
import { maxAbsDiff, referenceLogits } from './reference.js';

// The operators the folded graph may hold (issue 32): nothing that computes BN, p_l or randomness.
const ALLOWED = new Set([
  'Conv',
  'Relu',
  'Add',
  'MaxPool',
  'AveragePool',
  'Pad',
  'GlobalAveragePool',
  'Flatten',
  'Gemm',
]);

test('the writer declares only the allowed operators', () => {
  assert.deepEqual(new Set(FOLDED_OPS), ALLOWED);
});

const ops = (m: ModelProto) => m.graph!.node!.map((n) => n.op_type!);

async function run(
  model: ModelProto,
  input: Float32Array,
  dims: number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['cpu'] });
  try {
    assert.deepEqual(session.inputNames, ['input']);
    assert.deepEqual(session.outputNames, ['logits']);
    const { logits } = await session.run({ input: new ort.Tensor('float32', input, dims) });
    return { data: logits!.data as Float32Array, dims: logits!.dims };
  } finally {
    await session.release();
  }
}

function models(c: Case) {
  const checkpoint = randomCheckpoint(c);
  return {
    checkpoint,
    folded: buildModel(checkpoint, metadataFor(checkpoint, true), { folded: true }),
    unfolded: buildModel(checkpoint, metadataFor(checkpoint, false), { folded: false }),
  };
}

for (const c of CASES) {
  const { height, width, channels } = c.input;
  const shortcut = c.options?.shortcut ?? 'A';

  test(`${c.label}: folded and unfolded logits agree in ONNX Runtime (batch 3) and match the JS reference`, async (t) => {
    const { checkpoint, folded, unfolded } = models(c);
    const batch = 3;
    const nhwc = randomTensor(createRng(c.seed + 100), [batch, height, width, channels]);
    const nchw = nhwcToNchw(nhwc);
    const dims = [batch, channels, height, width];
    const a = await run(folded, nchw.data, dims);
    const b = await run(unfolded, nchw.data, dims);
    assert.deepEqual(a.dims, [batch, 10]);
    const foldedVsUnfolded = maxAbsDiff(a.data, b.data);
    const pixels = height * width * channels;
    const reference = Float64Array.from({ length: batch * 10 }, () => 0);
    for (let n = 0; n < batch; n++)
      reference.set(referenceLogits(checkpoint, nhwc.data.subarray(n * pixels, (n + 1) * pixels)), n * 10);
    const foldedVsReference = maxAbsDiff(a.data, reference);
    const scale = Math.max(...reference.map(Math.abs));
    t.diagnostic(
      `max |folded - unfolded| = ${foldedVsUnfolded.toExponential(2)}, max |folded - reference| = ${foldedVsReference.toExponential(2)}, max |logit| = ${scale.toFixed(2)}`,
    );
    assert.ok(scale > 0.1, `logits too small to test anything: ${scale}`);
    assert.ok(foldedVsUnfolded < 1e-4, `folded vs unfolded: ${foldedVsUnfolded}`);
    assert.ok(foldedVsReference < 1e-4, `folded vs reference: ${foldedVsReference}`);
  });

  test(`${c.label}: the batch dimension is dynamic`, async () => {
    const { folded } = models(c);
    const x = randomTensor(createRng(c.seed + 200), [5, channels, height, width]);
    const five = await run(folded, x.data, [5, channels, height, width]);
    const one = await run(folded, x.data.subarray(0, channels * height * width), [1, channels, height, width]);
    assert.deepEqual(five.dims, [5, 10]);
    assert.ok(maxAbsDiff(one.data, five.data.subarray(0, 10)) < 1e-5);
  });

  test(`${c.label}: folded graph has no Mul, BatchNormalization or random op; unfolded has them`, () => {
    const { folded, unfolded } = models(c);
    for (const op of ops(folded)) assert.ok(ALLOWED.has(op), `unexpected op ${op} in the folded graph`);
    assert.ok(!ops(folded).some((op) => /Random|Bernoulli|Dropout|Mul|BatchNormalization/.test(op)));
    assert.equal(ops(folded).filter((op) => op === 'Conv').length, shortcut === 'projection' ? 9 : 7);
    const count = (op: string) => ops(unfolded).filter((o) => o === op).length;
    assert.equal(count('Mul'), 3);
    assert.equal(count('BatchNormalization'), shortcut === 'projection' ? 9 : 7);
    assert.equal(ops(folded).includes('Pad'), shortcut === 'A');
  });

  test(`${c.label}: node names are unique and readable, initializers are raw little-endian data`, () => {
    const { folded } = models(c);
    const decoded = decodeModelProto(encodeModel(folded));
    const graph = decoded.graph!;
    const names = graph.node!.map((n) => n.name!);
    assert.equal(new Set(names).size, names.length);
    for (const name of ['stem.conv', 'stage2.block0.conv1', 'stage2.block0.conv2', 'stage3.block0.add', 'head.dense']) {
      assert.ok(names.includes(name), `no node ${name}`);
    }
    assert.deepEqual(decoded.opset_import, [{ domain: '', version: 17 }]);
    assert.equal(decoded.ir_version, 8);
    assert.equal(decoded.producer_name, 'depthfold');
    assert.deepEqual(graph.input![0]!.type!.tensor_type!.shape!.dim, [
      { dim_param: 'N' },
      { dim_value: channels },
      { dim_value: height },
      { dim_value: width },
    ]);
    assert.deepEqual(graph.output![0]!.type!.tensor_type!.shape!.dim, [{ dim_param: 'N' }, { dim_value: 10 }]);
    for (const init of graph.initializer!) {
      assert.ok(init.raw_data && init.raw_data.length > 0, `${init.name} has no raw_data`);
      assert.deepEqual(init.float_data, []);
    }
    const bias = graph.initializer!.find((i) => i.name === 'head.bias')!;
    const view = new DataView(bias.raw_data!.buffer, bias.raw_data!.byteOffset, bias.raw_data!.byteLength);
    const expected = randomCheckpoint(c).params.get('head.bias')!.data;
    expected.forEach((v, i) => assert.equal(view.getFloat32(i * 4, true), v));
    if (shortcut === 'A') {
      const pads = graph.initializer!.find((i) => i.name === 'stage2.block0.shortcut.pads')!;
      const p = new DataView(pads.raw_data!.buffer, pads.raw_data!.byteOffset, pads.raw_data!.byteLength);
      assert.deepEqual(
        Array.from({ length: 8 }, (_, i) => Number(p.getBigInt64(i * 8, true))),
        [0, 0, 0, 0, 0, 16, 0, 0],
      );
    }
  });
}

// The ImageNet family: no hand-written reference here (torchvision is, in test/torchvision.test.ts), but folded and
// unfolded must agree, and the folded graph must hold the allowed operators with one Conv per conv layer.
for (const c of IMAGENET_CASES) {
  test(`${c.label}: folded and unfolded logits agree in ONNX Runtime; the folded graph has MaxPool and no Mul or BN`, async () => {
    const { folded, unfolded } = models(c);
    const { height, width, channels } = c.input;
    const dims = [2, channels, height, width];
    const x = randomTensor(createRng(c.seed + 100), dims);
    const a = await run(folded, x.data, dims);
    const b = await run(unfolded, x.data, dims);
    const scale = Math.max(...Array.from(b.data, Math.abs));
    assert.ok(
      maxAbsDiff(a.data, b.data) < 1e-4 * Math.max(1, scale),
      `folded vs unfolded: ${maxAbsDiff(a.data, b.data)}`,
    );
    for (const op of ops(folded)) assert.ok(ALLOWED.has(op), `unexpected op ${op} in the folded graph`);
    assert.equal(ops(folded).filter((op) => op === 'MaxPool').length, 1);
    const convs = ops(unfolded).filter((op) => op === 'Conv').length;
    assert.equal(ops(folded).filter((op) => op === 'Conv').length, convs);
    assert.equal(ops(unfolded).filter((op) => op === 'BatchNormalization').length, convs);
    assert.equal(ops(unfolded).filter((op) => op === 'Mul').length, c.arch === 'resnet18' ? 8 : 16);
  });
}
