#!/usr/bin/env node
// `pnpm setup:cuda`: fetches onnxruntime-node's CUDA 12 execution provider, which is too large for the npm
// registry and so not bundled. The install script of onnxruntime-node is disabled in pnpm-workspace.yaml because
// it cannot reach its download host offline; this runs it on purpose, with ONNXRUNTIME_NODE_INSTALL=cuda12.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(join(process.cwd(), 'packages/infer/package.json'));
const ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the user's own choice for onnxruntime-node's install script, not turbo's
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? 'cuda12' };
const result = spawnSync(process.execPath, [join(ortDir, 'script/install.js')], { stdio: 'inherit', env, cwd: ortDir });
process.exit(result.status ?? 1);
