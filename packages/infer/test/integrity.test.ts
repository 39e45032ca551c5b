// Models given to load: corrupt files are errors about the model (naming it, "not valid ONNX"), never about the
// device; the digest of graph and weights is verified, refusing every seeded mutation of the shipped model's weights,
// with an explicit opt-out; the shipped models carry their digests and still classify as their cards say.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRng } from '@depthfold/core';
import { buildModel, decodeModelProto, encodeModel, readModelMetadata, wireRecords } from '@depthfold/onnx';
import { InferDeviceError, InferInputError, InferIntegrityError, InferModelError, load } from '../src/index.js';
import { load as loadWeb } from '../src/web/index.js';
import { fixtureModelBytes, metadataFor, randomCheckpoint, unstampedMetadataFor } from './fixtures.js';
import { failsWith, randomImage, restamp, tempFile, weightRanges } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SHIPPED = ['v1', 'v2'].map((v) => join(ROOT, 'models', `resnet20-fashion-mnist-${v}.onnx`));
// The SHA-256 of the shipped files' graph and weights, computed from the files as they were committed before the
// digest was added (ff18bfb and earlier): the stamped files have the same graph and weights.
const SHIPPED_DIGESTS = [
  '8cf78978704e5211efe905898fecb47ed5cc097b0234ac117dcdabaf54cdb7a7',
  '5f377f88660bfadacf532e504172c023b39c4c2a3671da363bf09281ceac0384',
];
const shipped = new Uint8Array(readFileSync(SHIPPED[1]!));
const bytes = fixtureModelBytes();

/** A fixture whose graph ONNX Runtime refuses (a node reads a tensor nothing makes), digest and all valid. */
function brokenGraph(): Uint8Array {
  const model = decodeModelProto(bytes);
  model.graph!.node![1]!.input![0] = 'no-such-tensor';
  return restamp(encodeModel(model));
}

test('an empty or 2-byte file is a model error (InferModelError), as the README promises for bytes that are not ONNX', async () => {
  for (const [name, bytes] of [
    ['empty.onnx', new Uint8Array(0)],
    ['two-bytes.onnx', Uint8Array.of(8, 1)],
  ] as const) {
    const file = tempFile(name, bytes);
    try {
      await assert.rejects(
        load(file.path),
        failsWith(
          InferModelError,
          new RegExp(
            `^model .*${name.replace('.', '\\.')}: bytes: expected an ONNX model \\(a protobuf ModelProto with a graph\\), received "${bytes.length} bytes that are not valid ONNX" \\(no graph`,
          ),
        ),
      );
    } finally {
      file.cleanup();
    }
  }
});

test('a text file or a truncated model is a model error that names the file and says it is not valid ONNX', async () => {
  const text = tempFile('notes.onnx', 'this is not a model\n');
  const cut = tempFile('cut.onnx', shipped.subarray(0, 500_000));
  try {
    await assert.rejects(
      load(text.path),
      failsWith(
        InferModelError,
        /^model .*notes\.onnx: bytes: expected an ONNX model \(a protobuf ModelProto\), received "20 bytes that are not valid ONNX" \(wire type 4/,
      ),
    );
    await assert.rejects(
      load(cut.path),
      failsWith(
        InferModelError,
        /^model .*cut\.onnx: bytes: expected an ONNX model .*not valid ONNX" \(field 7 at byte \d+ runs past the end/,
      ),
    );
  } finally {
    text.cleanup();
    cut.cleanup();
  }
});

test('a graph ONNX Runtime cannot load is a model error on every device, not InferDeviceError', async () => {
  const file = tempFile('broken.onnx', brokenGraph());
  try {
    for (const device of ['cpu', 'auto', 'cuda', 'webgpu'] as const) {
      await assert.rejects(
        load(file.path, { device }),
        failsWith(
          InferModelError,
          /^model .*broken\.onnx: graph: expected a valid ONNX model that ONNX Runtime can load, received "a model that is not valid ONNX" \(ONNX Runtime, provider cpu: .*no-such-tensor/,
        ),
        device,
      );
    }
  } finally {
    file.cleanup();
  }
  // The web entry too, whose baseline is WebAssembly.
  await assert.rejects(
    loadWeb(brokenGraph(), { device: 'wasm' }),
    failsWith(InferModelError, /graph: .*not valid ONNX.*provider wasm/),
  );
});

test('a device that cannot start a valid model is still InferDeviceError', async () => {
  await assert.rejects(
    loadWeb(bytes, { device: 'webgpu' }),
    failsWith(InferDeviceError, /device "webgpu" could not start a session/),
  );
});

test('the shipped models carry the digest of their graph and weights, and load with the check on', async () => {
  for (const [i, path] of SHIPPED.entries()) {
    const file = new Uint8Array(readFileSync(path));
    assert.equal(readModelMetadata(file, path).integrity?.sha256, SHIPPED_DIGESTS[i]);
    const classifier = await load(path);
    try {
      assert.equal(classifier.info.metadata.integrity?.sha256, SHIPPED_DIGESTS[i]);
    } finally {
      await classifier.dispose();
    }
  }
});

test('a changed weight fails the digest, naming the file, both digests and the opt-out', async () => {
  const [first] = weightRanges(shipped);
  const changed = Uint8Array.from(shipped);
  changed[first!.start + 7]! ^= 0x40;
  const file = tempFile('changed.onnx', changed);
  try {
    await assert.rejects(
      load(file.path),
      failsWith(
        InferIntegrityError,
        new RegExp(
          `^model .*changed\\.onnx: metadata_props\\.integrity\\.sha256: expected ${SHIPPED_DIGESTS[1]}, the digest stored at export \\(the graph or weights changed since\\), received "[0-9a-f]{64}" \\(to load a model changed on purpose, pass \\{ verifyIntegrity: false \\}\\)$`,
        ),
      ),
    );
    const edited = await load(file.path, { verifyIntegrity: false });
    await edited.dispose();
  } finally {
    file.cleanup();
  }
});

test("50 seeded mutations of the shipped model's weights: every one is refused, none loads", async () => {
  const ranges = weightRanges(shipped);
  const weightBytes = ranges.reduce((n, r) => n + r.end - r.start, 0);
  assert.ok(weightBytes > 1_000_000, `${weightBytes} bytes of weights`);
  const rng = createRng(13);
  const outcome = { integrity: 0, invalid: 0, loaded: 0 };
  for (let m = 0; m < 50; m++) {
    const mutant = Uint8Array.from(shipped);
    for (let k = 0, count = 1 + Math.floor(rng.next() * 4); k < count; k++) {
      // A byte of the weights, drawn uniformly over all of them, set to another value.
      let offset = Math.floor(rng.next() * weightBytes);
      const range = ranges.find((r) => {
        if (offset < r.end - r.start) return true;
        offset -= r.end - r.start;
        return false;
      })!;
      mutant[range.start + offset] = (mutant[range.start + offset]! + 1 + Math.floor(rng.next() * 255)) % 256;
    }
    try {
      await (await load(mutant)).dispose();
      outcome.loaded++;
    } catch (error) {
      if (error instanceof InferIntegrityError) outcome.integrity++;
      else if (error instanceof InferModelError) outcome.invalid++;
      else throw error;
    }
  }
  console.log(
    `50 weight mutations: ${outcome.integrity} failed the digest, ${outcome.invalid} were not valid ONNX, ${outcome.loaded} loaded`,
  );
  assert.equal(outcome.loaded, 0);
  assert.equal(outcome.integrity + outcome.invalid, 50);
});

test("50 seeded mutations of the graph's structure: refused with the check on; without it, never a device error", async () => {
  // The bytes of the graph that are not weights: nodes, names, types, dims and the protobuf framing of it all.
  const graph = wireRecords(shipped).find((r) => r.field === 7)!;
  const weights = weightRanges(shipped);
  const structure: number[] = [];
  for (let i = graph.start; i < graph.end; i++) if (!weights.some((r) => i >= r.start && i < r.end)) structure.push(i);
  const rng = createRng(17);
  const checked = { integrity: 0, invalid: 0, loaded: 0 };
  const unchecked = { invalid: 0, loaded: 0 };
  for (let m = 0; m < 50; m++) {
    const mutant = Uint8Array.from(shipped);
    const offset = structure[Math.floor(rng.next() * structure.length)]!;
    mutant[offset] = (mutant[offset]! + 1 + Math.floor(rng.next() * 255)) % 256;
    try {
      await (await load(mutant)).dispose();
      checked.loaded++;
    } catch (error) {
      if (error instanceof InferIntegrityError) checked.integrity++;
      else if (error instanceof InferModelError) checked.invalid++;
      else throw error;
    }
    try {
      await (await load(mutant, { verifyIntegrity: false })).dispose();
      unchecked.loaded++;
    } catch (error) {
      assert.ok(!(error instanceof InferDeviceError), `mutation at byte ${offset} blamed the device: ${String(error)}`);
      if (error instanceof InferModelError) unchecked.invalid++;
      else throw error;
    }
  }
  console.log(
    `50 graph-structure mutations, checked: ${JSON.stringify(checked)}; with verifyIntegrity false: ${JSON.stringify(unchecked)}`,
  );
  assert.equal(checked.loaded, 0);
  assert.ok(unchecked.invalid > 0, 'some mutants are not valid ONNX, so the test sees the classification');
  assert.equal(unchecked.invalid + unchecked.loaded, 50);
});

test('a model without a digest is refused unless the check is off', async () => {
  const checkpoint = randomCheckpoint();
  const old = encodeModel(buildModel(checkpoint, unstampedMetadataFor(checkpoint), { folded: true }));
  await assert.rejects(
    load(old),
    failsWith(
      InferIntegrityError,
      /^model \(model bytes\): metadata_props\.integrity: expected the SHA-256 of the graph and weights that pnpm export writes \(tools\/stamp-model-digest\.ts adds it to an older model\), received nothing/,
    ),
  );
  const classifier = await load(old, { verifyIntegrity: false });
  try {
    assert.equal((await classifier.classify(randomImage(1)))[0]!.top.length, 3);
  } finally {
    await classifier.dispose();
  }
  await assert.rejects(
    load(bytes, { verifyIntegrity: 'no' as unknown as boolean }),
    failsWith(InferInputError, /^verifyIntegrity: expected true or false, received "no"$/),
  );
});

test('the web entry verifies the digest with SubtleCrypto, and says so where there is none', async () => {
  const changed = Uint8Array.from(bytes);
  changed[weightRanges(bytes)[0]!.start]! ^= 0x01;
  await assert.rejects(
    loadWeb(changed, { device: 'wasm' }),
    failsWith(InferIntegrityError, /metadata_props\.integrity\.sha256: expected/),
  );
  const own = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
  // An insecure page (http: other than localhost) has no crypto.subtle.
  Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true });
  try {
    await assert.rejects(
      loadWeb(bytes, { device: 'wasm' }),
      failsWith(
        InferInputError,
        /^verifyIntegrity: expected SubtleCrypto to hash the model \(pass \{ verifyIntegrity: false \} where there is none\), received "SubtleCrypto \(crypto\.subtle\) is not available here/,
      ),
    );
    await (await loadWeb(bytes, { device: 'wasm', verifyIntegrity: false })).dispose();
  } finally {
    Object.defineProperty(globalThis, 'crypto', own);
  }
});

test('the fixture is stamped as export stamps: its digest matches', () => {
  const checkpoint = randomCheckpoint();
  assert.equal(readModelMetadata(bytes, 'fixture').integrity?.sha256, metadataFor(checkpoint).integrity?.sha256);
});
