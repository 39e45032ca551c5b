// Every exported test model passes the official ONNX checker (python3-onnx 1.12, full_check with strict shape
// inference), and the official protobuf reads back what we meant to write: this pins our field numbers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildModel, encodeModel } from '../src/index.js';
import { writeModelFile } from '../src/node.js';
import { CASES, IMAGENET_CASES, randomCheckpoint } from '@depthfold/testing';
import { metadataFor } from './source-writer.js';

const PYTHON = '/usr/bin/python3';

// Checks each file, then prints what the official reader sees, one JSON line per file.
const SCRIPT = `
import json, sys, onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    g = model.graph
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    print(json.dumps({
        "ir_version": model.ir_version,
        "opset": [[o.domain, o.version] for o in model.opset_import],
        "producer": model.producer_name,
        "metadata": {p.key: p.value for p in model.metadata_props},
        "input": [g.input[0].name, dims(g.input[0])],
        "output": [g.output[0].name, dims(g.output[0])],
        "ops": sorted({n.op_type for n in g.node}),
        "epsilon": [a.f for n in g.node for a in n.attribute if a.name == "epsilon"][:1],
    }))
`;

test('every exported test model passes onnx.checker.check_model(full_check=True)', async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    assert.fail(
      `${PYTHON} cannot import onnx (${probe.error?.message ?? probe.stderr.trim()}); install the official checker with: apt-get install python3-onnx`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'depthfold-onnx-check-'));
  try {
    const files: {
      path: string;
      folded: boolean;
      label: string;
      classes: number;
      metadata: ReturnType<typeof metadataFor>;
    }[] = [];
    for (const c of [...CASES, IMAGENET_CASES[0]!]) {
      const checkpoint = randomCheckpoint(c);
      for (const folded of [true, false]) {
        const metadata = metadataFor(checkpoint, folded);
        const path = join(dir, `${c.label}-${folded ? 'folded' : 'unfolded'}.onnx`);
        await writeModelFile(path, encodeModel(buildModel(checkpoint, metadata, { folded })));
        files.push({ path, folded, label: c.label, classes: checkpoint.info.architecture.numClasses, metadata });
      }
    }
    const result = spawnSync(PYTHON, ['-c', SCRIPT, ...files.map((f) => f.path)], { encoding: 'utf8' });
    assert.equal(result.status, 0, `onnx checker failed:\n${result.stderr}`);
    const seen = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(seen.length, files.length);
    files.forEach((f, i) => {
      const s = seen[i]!;
      assert.equal(s.ir_version, 8);
      assert.deepEqual(s.opset, [['', 17]]);
      assert.equal(s.producer, 'depthfold');
      const { input } = f.metadata;
      assert.deepEqual(s.input, ['input', ['N', input.channels, input.height, input.width]]);
      assert.deepEqual(s.output, ['logits', ['N', f.classes]]);
      const metadata = s.metadata as Record<string, string>;
      assert.deepEqual(Object.keys(metadata).sort(), Object.keys(f.metadata).sort());
      for (const [key, value] of Object.entries(f.metadata)) assert.deepEqual(JSON.parse(metadata[key]!), value, key);
      const ops = s.ops as string[];
      assert.equal(ops.includes('BatchNormalization'), !f.folded, f.label);
      assert.equal(ops.includes('Mul'), !f.folded, f.label);
      if (!f.folded) assert.ok(Math.abs((s.epsilon as number[])[0]! - 1e-5) < 1e-10);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
