// End to end on real data, through what a user runs: train a small ResNet with stochastic depth on a Fashion-MNIST
// subset (the CLI), export it (exportModel, which `pnpm export` wraps), check the ONNX model with the official
// checker, and classify test images with @depthfold/infer (onnxruntime-node) exactly as the trained tfjs network
// does, then write its model card. The same for the ImageNet family on resized images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { epochPlanOf, topologyOf, trainConfigSchema } from '@depthfold/core';
import { loadCheckpoint, parseCommandLine } from '@depthfold/core/node';
import { load } from '@depthfold/infer';
import { exportModel } from '@depthfold/pipeline';
import { checkpointLogits, fillBatch, loadDataset, resizedDataset, selectBackend } from '@depthfold/train';
import { onednnAvailability } from '@depthfold/backend-onednn';

const work = mkdtempSync(join(tmpdir(), 'depthfold-e2e-'));
const runDir = join(work, 'run');
const modelPath = join(work, 'e2e.onnx');
const TEST_IMAGES = 1000;

function cli(script: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}
const train = (args: string[]) => cli('packages/train/dist/cli/train.js', args);
const writeCard = (args: string[]) => cli('packages/pipeline/dist/cli/card.js', args);

function argmax(row: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (row[offset + k]! > row[offset + best]!) best = k;
  return best;
}

test('pnpm train -> pnpm export -> onnx checker -> @depthfold/infer', { timeout: 900_000 }, async (t) => {
  await t.test('train ResNet-8 with linear stochastic depth on 3072 Fashion-MNIST images', () => {
    const r = train([
      '--name',
      'e2e',
      '--run-dir',
      runDir,
      '--depth',
      '8',
      '--train-limit',
      '3072',
      '--test-limit',
      String(TEST_IMAGES),
      '--epochs',
      '2',
      '--batch-size',
      '64',
    ]);
    assert.equal(r.status, 0, r.out);
    // Where the oneDNN addon built (always in CI), the default backend is onednn; elsewhere wasm.
    assert.match(
      r.out,
      onednnAvailability().available ? /backend: onednn \(onednn\), 1 worker thread; oneDNN / : /backend: wasm/,
    );
    assert.match(r.out, /checkpoint: .*checkpoint\.safetensors/);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(metrics.length, 2);
    assert.ok(metrics[1].realisedDepth < 3 && metrics[1].expectedDepth === 2, 'blocks were dropped');
  });

  await t.test('an existing run is never overwritten; --resume continues it', () => {
    const refused = train([
      '--name',
      'e2e',
      '--run-dir',
      runDir,
      '--depth',
      '8',
      '--train-limit',
      '3072',
      '--epochs',
      '3',
    ]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.out, /exists; pass --resume/);
    const r = train(['--run-dir', runDir, '--resume', '--epochs', '3', '--test-limit', String(TEST_IMAGES)]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /resumed after epoch 2/);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      metrics.map((m) => m.epoch),
      [1, 2, 3],
    );
  });

  await t.test('export folds, verifies against tfjs and writes the model', async () => {
    const r = await exportModel({ run: runDir, out: modelPath });
    assert.equal(r.path, modelPath);
    assert.ok(r.parity.maxAbsDiff < 1e-4, JSON.stringify(r.parity));
    assert.deepEqual([r.parity.top1Agree, r.parity.images], [64, 64]);
    assert.equal(r.epoch, 3);
  });

  await t.test('the official ONNX checker accepts the model (full_check)', () => {
    execFileSync('/usr/bin/python3', [
      '-c',
      'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
      modelPath,
    ]);
  });

  await t.test(
    'onnxruntime predictions equal the trained network on Fashion-MNIST test images; accuracy is far above chance',
    async () => {
      const data = await loadDataset('fashion-mnist');
      const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint.safetensors'));
      const { height, width, channels } = data;
      const size = height * width * channels;
      const indices = Array.from({ length: TEST_IMAGES }, (_, i) => i);
      const pixels = new Float32Array(TEST_IMAGES * size);
      fillBatch(data.test, indices, pixels, checkpoint.info.normalization);
      await selectBackend('wasm');
      const reference = await checkpointLogits(
        topologyOf(checkpoint.info.architecture),
        checkpoint.params,
        checkpoint.info.schedule.survivalProbs,
        pixels,
      );

      const classifier = await load(modelPath, { device: 'cpu' });
      assert.equal(classifier.info.provider, 'cpu');
      const images = indices.map((i) => data.test.images.subarray(i * size, (i + 1) * size));
      const results = await classifier.classify(images, { topK: 1 });
      await classifier.dispose();
      let agree = 0;
      let correct = 0;
      results.forEach((r, i) => {
        const ours = r.top[0]!.index;
        if (ours === argmax(reference, i * 10, 10)) agree++;
        if (ours === data.test.labels[i]) correct++;
      });
      assert.equal(agree, TEST_IMAGES, 'every top-1 prediction of ONNX Runtime equals the tfjs one');
      const accuracy = correct / TEST_IMAGES;
      t.diagnostic(`test accuracy ${(100 * accuracy).toFixed(1)}% on ${TEST_IMAGES} images`);
      assert.ok(accuracy > 0.5, `accuracy ${accuracy} should be far above chance (0.1)`);
    },
  );

  await t.test(
    'pnpm card: accuracy and confusion matrix on the whole test set, parity, the command that trained it',
    async () => {
      const cardPath = join(work, 'e2e.md');
      const r = writeCard(['--model', modelPath, '--run', runDir, '--out', cardPath]);
      assert.equal(r.status, 0, r.out);
      const card = readFileSync(cardPath, 'utf8');

      // The same figures computed here, independently: ONNX Runtime's top-1 on every test image.
      const data = await loadDataset('fashion-mnist');
      const size = data.height * data.width * data.channels;
      const classifier = await load(modelPath, { device: 'cpu' });
      const expected = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
      for (let start = 0; start < data.test.count; start += 1000) {
        const images = Array.from({ length: 1000 }, (_, i) =>
          data.test.images.subarray((start + i) * size, (start + i + 1) * size),
        );
        const results = await classifier.classify(images, { topK: 1 });
        results.forEach((res, i) => expected[data.test.labels[start + i]!]![res.top[0]!.index]!++);
      }
      await classifier.dispose();
      const matrixText = card.slice(card.indexOf('Confusion matrix'));
      const rows = [...matrixText.matchAll(/^\| \d+ [^|]+ \|(.*)\|$/gm)]
        .slice(0, 10)
        .map((m) => m[1]!.split('|').map((c) => Number(c.replace(/\*/g, ''))));
      assert.deepEqual(rows, expected, 'the confusion matrix');
      const correct = expected.reduce((s, row, k) => s + row[k]!, 0);
      assert.equal(/\*\*Test accuracy ([\d.]+)%\*\*/.exec(card)?.[1], ((100 * correct) / data.test.count).toFixed(2));
      assert.match(card, /95% confidence interval \d+\.\d+% – \d+\.\d+%/);
      assert.match(
        card,
        new RegExp(`top-1 agreement ${data.test.count} of ${data.test.count}`),
        'parity on the whole test set',
      );
      assert.ok(
        Number(/largest \|logit difference\| (\S+),/.exec(card)?.[1]) < 1e-4,
        'logits match the trained network',
      );

      // The training command in the card parses back to the config the checkpoint records, and names the run's
      // directory (not runs/<name> here), so that its `pnpm export --run` finds what it trains.
      const command = /^pnpm train (.*)$/m.exec(card)?.[1];
      assert.ok(command, 'the card gives the training command');
      const checkpoint = await loadCheckpoint(join(runDir, 'checkpoint.safetensors'));
      // This run was resumed with more epochs: the first command trains towards the first part's count, and the
      // card's next line resumes it with the final count.
      const [first] = epochPlanOf(checkpoint.info);
      assert.deepEqual(trainConfigSchema.parse(parseCommandLine(command.split(' '), trainConfigSchema)), {
        ...checkpoint.info.config,
        epochs: first!.epochs,
        resume: false,
        runDir,
      });
      if (first!.epochs !== checkpoint.info.config.epochs)
        assert.match(card, new RegExp(`\\npnpm train .*--resume --epochs ${checkpoint.info.config.epochs}\\n`));
    },
  );

  rmSync(work, { recursive: true, force: true });
});

test('resnet18 on Fashion-MNIST resized to 32x32: train, export, checker, infer', { timeout: 900_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-e2e-imagenet-'));
  try {
    const run = join(dir, 'run');
    const model = join(dir, 'r18.onnx');
    const r = train(
      ['--name', 'r18', '--run-dir', run, '--arch', 'resnet18', '--input-size', '32', '--train-limit', '256'].concat([
        '--test-limit',
        '200',
        '--epochs',
        '1',
        '--batch-size',
        '32',
      ]),
    );
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /ResNet-18 \(ImageNet layout, standard stem\) on 32x32x1/);
    const exported = await exportModel({ run, out: model, probe: 32 });
    assert.ok(exported.parity.relativeDiff < 1e-4, JSON.stringify(exported.parity));
    t.diagnostic(`parity: ${JSON.stringify(exported.parity)}`);
    assert.equal(exported.parity.top1Agree, 32);
    execFileSync('/usr/bin/python3', [
      '-c',
      'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)',
      model,
    ]);
    // The model records how the 28x28 images became its input, and infer takes them at that size.
    const classifier = await load(model, { device: 'cpu' });
    assert.deepEqual(classifier.info.input, { height: 32, width: 32, channels: 1 });
    assert.equal(classifier.info.metadata.input.preprocessing.resize, 'stretch');
    const data = resizedDataset(await loadDataset('fashion-mnist'), { height: 32, width: 32 }).dataset;
    const size = 32 * 32;
    const images = Array.from({ length: 100 }, (_, i) => data.test.images.subarray(i * size, (i + 1) * size));
    const results = await classifier.classify(images, { topK: 1 });
    await classifier.dispose();
    assert.equal(results.length, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
