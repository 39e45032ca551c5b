// Synthetic run directories (config.json + metrics.jsonl) for the report's tests: known numbers, no training.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `depthfold-report-${prefix}-`));
}

export interface SyntheticRun {
  depth?: number;
  survivalRule?: 'linear' | 'uniform' | 'none';
  survivalProb?: number;
  /** Epochs the config asks for (default: one per test error). */
  epochs?: number;
  testErrors: number[];
  /** Validation error per epoch, for runs with a held-out split. */
  validationErrors?: number[];
  seconds?: number[];
  imagesPerSecond?: number[];
  /** Leave out gradMagnitude and workers, as runs written before they were recorded. */
  oldFormat?: boolean;
  /** Extra config fields (e.g. trainLimit). */
  config?: Record<string, unknown>;
}

/** Writes a run directory whose metrics follow `run`; everything not given is a smooth made-up curve. */
export function writeRun(dir: string, run: SyntheticRun): string {
  const depth = run.depth ?? 20;
  const blocks = (depth - 2) / 2;
  const rule = run.survivalRule ?? 'linear';
  const pL = run.survivalProb ?? 0.5;
  const probs = Array.from({ length: blocks }, (_, i) =>
    rule === 'none' ? 1 : rule === 'uniform' ? pL : 1 - ((i + 1) / blocks) * (1 - pL),
  );
  const expected = probs.reduce((s, p) => s + p, 0);
  mkdirSync(dir, { recursive: true });
  const config = {
    name: dir.split('/').pop(),
    dataset: 'fashion-mnist',
    depth,
    shortcut: 'A',
    survivalRule: rule,
    survivalProb: pL,
    epochs: run.epochs ?? run.testErrors.length,
    batchSize: 128,
    learningRate: 0.1,
    seed: 1,
    backend: 'auto',
    resume: false,
    ...run.config,
  };
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const lines = run.testErrors.map((testError, i) => {
    const epoch = i + 1;
    const line: Record<string, unknown> = {
      epoch,
      step: epoch * 100,
      learningRate: 0.1 * Math.cos((Math.PI * epoch) / (2 * run.testErrors.length)),
      trainLoss: 2 * Math.exp(-epoch / 2) + 0.2 + (1 - pL) * 0.1,
      trainError: testError * 0.9,
      testLoss: testError * 3,
      testError,
      testExamples: 1000,
      ...(run.validationErrors
        ? { validationError: run.validationErrors[i], validationLoss: run.validationErrors[i]! * 3 }
        : {}),
      seconds: run.seconds?.[i] ?? 10 * (expected / blocks) + epoch * 0.1,
      imagesPerSecond: run.imagesPerSecond?.[i] ?? 1280 / (10 * (expected / blocks)),
      expectedDepth: expected,
      realisedDepth: expected + (epoch % 2 ? 0.05 : -0.05),
      backend: 'wasm',
    };
    if (!run.oldFormat) {
      // Earlier stages get smaller gradients, and stochastic depth (lower p_L) larger ones: the paper's Fig. 7 shape.
      const boost = 1 + (1 - pL);
      line.gradMagnitude = {
        stem: 2e-3 * boost * Math.exp(-epoch / 4),
        stage1: 3e-3 * boost * Math.exp(-epoch / 4),
        stage2: 5e-3 * boost * Math.exp(-epoch / 5),
        stage3: 8e-3 * Math.exp(-epoch / 6),
      };
      line.workers = 2;
    }
    return JSON.stringify(line);
  });
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}
