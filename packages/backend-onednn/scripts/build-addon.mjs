#!/usr/bin/env node
// Builds the oneDNN addon with node-gyp as part of the workspace build. A machine that cannot build it (another
// OS, no compiler, no oneDNN headers) still builds the workspace: the reason is written to native/build/unavailable.txt,
// which the backend reports when asked to start, and `--backend auto` moves on. In CI (CI=true) a failed build is
// an error, since the tests that cover the backend would otherwise have nothing to run against.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// binding.gyp sits in native/, not at the package root, so that no package manager runs node-gyp at install time
// (where a failure would fail the install).
const nativeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const reasonFile = join(nativeDir, 'build', 'unavailable.txt');
const HEADER = '/usr/include/oneapi/dnnl/dnnl.hpp';

function unavailable(reason) {
  mkdirSync(dirname(reasonFile), { recursive: true });
  writeFileSync(reasonFile, `${reason}\n`);
  const line = `backend-onednn: the native addon was not built: ${reason}`;
  if (process.env.CI === 'true') {
    console.error(`${line} (CI=true: failing, since its tests need it)`);
    process.exit(1);
  }
  console.warn(`${line}; the onednn backend will report this and --backend auto will skip it`);
  process.exit(0);
}

if (process.platform !== 'linux') unavailable(`it is built for Linux only, and this is ${process.platform}`);
if (!existsSync(HEADER))
  unavailable(`oneDNN's headers are missing (${HEADER}): install Debian's libdnnl-dev (tools/setup.sh does)`);
let nodeGyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  unavailable('node-gyp is not installed (a dev dependency of this package)');
}
rmSync(reasonFile, { force: true });
// Node's own headers sit beside its binary in Debian's and the official builds; without them node-gyp would try
// to download them, which fails offline.
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
// Configure once, then build incrementally: a rebuild would first delete the addon that other processes may be
// loading, and recompile what has not changed.
const steps = existsSync(join(nativeDir, 'build', 'Makefile')) ? [['build']] : [['configure', ...nodedir], ['build']];
for (const step of steps) {
  const args = [nodeGyp, ...step, '--release', '-j', 'max'];
  const result = spawnSync(process.execPath, args, {
    cwd: nativeDir,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    process.stderr.write(result.stderr ?? '');
    const firstError = (result.stderr ?? '').split('\n').find((l) => /error/i.test(l)) ?? `exit code ${result.status}`;
    unavailable(`node-gyp ${step[0]} failed: ${firstError.trim().slice(0, 300)}`);
  }
}
