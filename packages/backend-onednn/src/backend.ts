// The onednn backend: the cpu backend's tensor storage (plain Float32Arrays in JS memory), so that every cpu
// kernel runs on it unchanged, and a count of the native kernel calls (tests check that a dropped block runs none).
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnBinding } from './native.js';

/** The name the backend registers under. */
export const ONEDNN_BACKEND_NAME = 'onednn';

/** A tfjs backend whose hot kernels run in oneDNN; every other kernel is the cpu backend's. */
export class MathBackendOnednn extends MathBackendCPU {
  /** Calls of each native kernel, by kernel name, since the backend started or the counts were reset. */
  readonly nativeCalls = new Map<string, number>();

  constructor(readonly native: OnednnBinding) {
    super();
    // The cpu backend advises installing tfjs-node on its first write in Node; that advice is wrong for a native
    // backend, and it would be printed at every start.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** Records one native call of `kernelName`. */
  countCall(kernelName: string): void {
    this.nativeCalls.set(kernelName, (this.nativeCalls.get(kernelName) ?? 0) + 1);
  }
}
