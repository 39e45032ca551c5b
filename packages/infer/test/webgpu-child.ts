// Run by webgpu-node.test.ts in a child node whose environment points Vulkan at SwiftShader: loads the fixture model
// on webgpu and on cpu and prints both devices and both logits of one batch as JSON on stdout.
import { load } from '../src/node/index.js';
import { fixtureModelBytes } from './fixtures.js';
import { randomImage } from './helpers.js';

const bytes = fixtureModelBytes();
const batch = [randomImage(11), randomImage(12)];
const gpu = await load(bytes, { device: 'webgpu' });
const cpu = await load(bytes, { device: 'cpu' });
try {
  const started = performance.now();
  const gpuLogits = await gpu.logits(batch);
  const seconds = (performance.now() - started) / 1000;
  const cpuLogits = await cpu.logits(batch);
  process.stdout.write(
    JSON.stringify({
      gpu: { device: gpu.info.device, provider: gpu.info.provider, logits: gpuLogits.map((l) => Array.from(l)) },
      cpu: { device: cpu.info.device, logits: cpuLogits.map((l) => Array.from(l)) },
      seconds,
    }),
  );
} finally {
  await gpu.dispose();
  await cpu.dispose();
}
