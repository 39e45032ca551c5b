// Whether the tests of the native backend can run here. In CI (CI=true) a missing addon fails the run, since the
// backend's tests would otherwise pass without testing it; on a developer's machine they are skipped, loudly.
import { onednnAvailability, registerOnednnBackend } from '../src/index.js';

const availability = onednnAvailability();
if (!availability.available) {
  if (process.env.CI === 'true')
    throw new Error(`CI=true, but the onednn backend is unavailable: ${availability.reason}`);
  console.warn(`\n*** SKIPPING the onednn backend's tests: ${availability.reason} ***\n`);
} else {
  // One thread: tests run beside others on two cores, where OpenMP's barriers would wait on preempted threads.
  registerOnednnBackend({ threads: 1 });
}

/** false where the backend is available, else the reason to skip (node:test's `skip` option). */
export const skipUnlessOnednn: false | string = availability.available ? false : availability.reason;
