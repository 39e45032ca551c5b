// A family added by its own file alone: this test registers one that no package knows (a "plain" net of single-conv
// residual blocks, a 2x2 max-pool stem and a projection in the middle), trains it a few steps, exports it, and then
// runs the model in child processes that never register the family: @depthfold/infer classifies it, `pnpm serve`
// serves it, and the demo describes it. Nothing outside this file changed for it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { z } from 'zod';
import {
  createRng,
  registerFamily,
  residualLayers,
  topologyOf,
  TopologyBuilder,
  unregisterFamily,
  type Checkpoint,
} from '@depthfold/core';
import * as onnx from '@depthfold/onnx';
import { modelBytesOf, randomCheckpoint, randomTensor } from '@depthfold/testing';
import { checkpointLogits, LocalEngine, selectBackend } from '@depthfold/train';

const FAMILY = 'toy-plain';

registerFamily({
  name: FAMILY,
  summary: 'a test family: single-conv residual blocks',
  options: z.object({ depth: z.number().int().min(2).default(3), width: z.number().int().min(1).default(8) }).strict(),
  networks: { toy3: { depth: 3 } },
  topology({ depth, width }, input, numClasses) {
    const b = new TopologyBuilder({ channels: input.channels, height: input.height, width: input.width });
    b.conv('stem.conv', width, 3).batchNorm('stem.bn').relu('stem.relu').maxPool('stem.pool', 2, 2, 0);
    for (let i = 0; i < depth; i++) {
      const name = `block${i}`;
      const stride = i === 1 ? 2 : 1;
      const out = i >= 1 ? 2 * width : width;
      const from = b.current.channels;
      b.residual(
        name,
        (f) => f.conv(`${name}.conv`, out, 3, stride).batchNorm(`${name}.bn`),
        (s) => {
          if (stride !== 1 || from !== out) s.conv(`${name}.proj`, out, 1, stride).batchNorm(`${name}.proj_bn`);
        },
      );
    }
    b.globalAveragePool('head.pool').dense('head', numClasses);
    return { title: `Toy-${depth}`, id: `toy${depth}`, input: { ...input }, numClasses, layers: b.layers };
  },
});
after(() => unregisterFamily(FAMILY));

const dir = mkdtempSync(join(tmpdir(), 'depthfold-new-family-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const INPUT = { height: 12, width: 12, channels: 1 };

/** Runs `code` (an ES module) in a child node that has not registered the family; returns its stdout's JSON. */
function child(code: string): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** A trained checkpoint of the toy family: a random one, then three SGD steps with a block dropped. */
async function trainedCheckpoint(): Promise<Checkpoint> {
  const checkpoint = randomCheckpoint({
    label: 'toy',
    arch: 'toy3',
    input: INPUT,
    seed: 21,
    numClasses: 4,
    labels: ['w', 'x', 'y', 'z'],
  });
  await selectBackend('wasm');
  const topology = topologyOf(checkpoint.info.architecture);
  const engine = new LocalEngine({ topology, params: checkpoint.params, momentum: new Map() });
  const batch = {
    pixels: randomTensor(createRng(2), [6, 12, 12, 1]).data,
    labels: Int32Array.of(0, 1, 2, 3, 0, 1),
    count: 6,
  };
  const gates = residualLayers(topology).map((b) => b.index !== 2);
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) {
    losses.push((await engine.step(batch, { gates, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-4 })).loss);
  }
  assert.ok(losses.every(Number.isFinite) && losses[2]! < losses[0]!, `losses ${losses}`);
  const { params } = await engine.state();
  await engine.dispose();
  return { ...checkpoint, params };
}

test('a family registered in a test alone trains, folds, exports, and runs where it is not registered', {
  timeout: 300_000,
}, async (t) => {
  const checkpoint = await trainedCheckpoint();
  const topology = topologyOf(checkpoint.info.architecture);
  const pixels = randomTensor(createRng(5), [3, 12, 12, 1]).data;
  const expected = await checkpointLogits(topology, checkpoint.params, checkpoint.info.schedule.survivalProbs, pixels);
  const model = join(dir, 'toy.onnx');
  writeFileSync(model, modelBytesOf(onnx, checkpoint));

  await t.test('@depthfold/infer, in a process that does not know the family, gives the trained logits', () => {
    const raw = Array.from(pixels, (v) => Math.min(255, Math.max(0, (v * 0.25 + 0.5) * 255)));
    // The checkpoint normalises with mean 0.5, std 0.25: the raw pixels above map back to the test's inputs.
    const normalised = Float32Array.from(raw, (p) => (p / 255 - 0.5) / 0.25);
    const reference = checkpointLogits(topology, checkpoint.params, checkpoint.info.schedule.survivalProbs, normalised);
    const got = child(`
      import { load } from '@depthfold/infer';
      const model = await load(${JSON.stringify(model)}, { device: 'cpu' });
      const raw = Float32Array.from(${JSON.stringify(raw)});
      const images = [0, 1, 2].map((i) => raw.subarray(i * 144, (i + 1) * 144));
      const logits = await model.logits(images);
      console.log(JSON.stringify({ labels: model.info.labels, logits: logits.map((l) => Array.from(l)) }));
    `) as { labels: string[]; logits: number[][] };
    assert.deepEqual(got.labels, ['w', 'x', 'y', 'z']);
    return reference.then((want) => {
      const diff = Math.max(...got.logits.flat().map((v, i) => Math.abs(v - want[i]!)));
      assert.ok(diff < 1e-4, `infer vs tfjs: ${diff}`);
    });
  });

  await t.test('pnpm serve, in a process that does not know the family, answers with the same logits', async () => {
    const server = spawn(process.execPath, ['packages/serve/dist/cli/serve.js', '--model', model, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (http:\/\/\S+) /.exec(out);
          if (m) resolve(m[1]!);
        });
        server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const nchw = onnx.nhwcToNchw({ shape: [3, 12, 12, 1], data: pixels });
      const body = {
        inputs: [{ name: 'input', shape: [3, 1, 12, 12], datatype: 'FP32', data: Array.from(nchw.data) }],
      };
      const reply = await fetch(`${url}/v2/models/toy/infer`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(reply.status, 200, await reply.clone().text());
      const { outputs } = (await reply.json()) as { outputs: { data: number[] }[] };
      const diff = Math.max(...outputs[0]!.data.map((v, i) => Math.abs(v - expected[i]!)));
      assert.ok(diff < 1e-4, `serve vs tfjs: ${diff}`);
    } finally {
      server.kill('SIGTERM');
    }
  });

  await t.test('the demo describes it from its metadata, in a process that does not know the family', () => {
    const got = child(`
      import { load } from '@depthfold/infer';
      import { describeModel } from './packages/demo/src/model-description.ts';
      const model = await load(${JSON.stringify(model)}, { device: 'cpu' });
      console.log(JSON.stringify(describeModel(model.info)));
    `);
    assert.equal(
      got,
      'toy-plain, depth 3, stochastic depth (linear decay to p_L = 0.5), trained on Fashion-MNIST; 4 classes, 12x12 grey input.',
    );
  });
});
