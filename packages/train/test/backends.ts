// The backends the train package's kernels are tested on: cpu (the reference), wasm, and onednn where its addon
// built. In CI (CI=true) onednn is required: without it these tests would pass without covering it.
import { onednnAvailability, registerOnednnBackend } from '@depthfold/backend-onednn';

const onednn = onednnAvailability();
if (!onednn.available) {
  if (process.env.CI === 'true') throw new Error(`CI=true, but the onednn backend is unavailable: ${onednn.reason}`);
  console.warn(`\n*** train tests run WITHOUT the onednn backend: ${onednn.reason} ***\n`);
} else {
  // One thread: tests run beside others on two cores, where OpenMP's barriers would wait on preempted threads.
  registerOnednnBackend({ threads: 1 });
}

/** A backend the kernels are tested on. */
export type TestBackend = 'wasm' | 'cpu' | 'onednn';

/** wasm and cpu, and onednn where it is available. */
export const TEST_BACKENDS: readonly TestBackend[] = onednn.available ? ['wasm', 'cpu', 'onednn'] : ['wasm', 'cpu'];

/** false where onednn is available, else why its tests are skipped. */
export const skipUnlessOnednn: false | string = onednn.available ? false : onednn.reason;
