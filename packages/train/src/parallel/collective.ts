// Collective operations between the data-parallel replicas of a training run. Every replica takes part in every
// call in the same order (same gates, same layers), so a barrier over shared memory is all the coordination needed.
// Reductions sum in rank order, so every replica gets bit-identical results and the weights never drift apart.

/** How the replicas of a run exchange statistics and gradients. */
export interface Collective {
  /** Number of replicas. */
  readonly size: number;
  /** This replica's index, 0..size-1. */
  readonly rank: number;
  /** Every replica's `local` (all of the same length), in rank order. */
  allGather(local: Float32Array): Float32Array[];
  /** The element-wise sum over replicas of `local`, summed in rank order. */
  allReduceSum(local: Float32Array): Float32Array;
}

/** The collective of a run with a single replica: gathering and reducing return the input. */
export const soloCollective: Collective = {
  size: 1,
  rank: 0,
  allGather: (local) => [local],
  allReduceSum: (local) => local,
};

/** Shared memory for a {@link SharedCollective}: made once by the coordinator and sent to every replica. */
export interface CollectiveMemory {
  size: number;
  /** Int32 [arrived, generation] for the barrier. */
  control: SharedArrayBuffer;
  /** Float32 slots, one of `slotLength` per replica. */
  slots: SharedArrayBuffer;
  slotLength: number;
}

/** Allocates the shared memory for `size` replicas exchanging at most `slotLength` floats each. */
export function allocateCollective(size: number, slotLength: number): CollectiveMemory {
  return {
    size,
    control: new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
    slots: new SharedArrayBuffer(size * slotLength * Float32Array.BYTES_PER_ELEMENT),
    slotLength,
  };
}

const ARRIVED = 0;
const GENERATION = 1;
/** A replica that waits longer than this at a barrier assumes another one died, and fails instead of hanging. */
const BARRIER_TIMEOUT_MS = 120_000;

/** A collective over shared memory between worker threads; blocking (Atomics.wait), so never on the main thread. */
export class SharedCollective implements Collective {
  readonly size: number;
  readonly rank: number;
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  private readonly slotLength: number;

  constructor(memory: CollectiveMemory, rank: number) {
    this.size = memory.size;
    this.rank = rank;
    this.control = new Int32Array(memory.control);
    this.slots = new Float32Array(memory.slots);
    this.slotLength = memory.slotLength;
  }

  private barrier(): void {
    const generation = Atomics.load(this.control, GENERATION);
    if (Atomics.add(this.control, ARRIVED, 1) === this.size - 1) {
      Atomics.store(this.control, ARRIVED, 0);
      Atomics.add(this.control, GENERATION, 1);
      Atomics.notify(this.control, GENERATION);
      return;
    }
    while (Atomics.load(this.control, GENERATION) === generation) {
      if (Atomics.wait(this.control, GENERATION, generation, BARRIER_TIMEOUT_MS) === 'timed-out') {
        throw new Error(
          `collective: replica ${this.rank} waited ${BARRIER_TIMEOUT_MS / 1000} s for the others; one of them failed`,
        );
      }
    }
  }

  allGather(local: Float32Array): Float32Array[] {
    if (local.length > this.slotLength)
      throw new Error(`collective: ${local.length} floats exceed the slot of ${this.slotLength}`);
    this.slots.set(local, this.rank * this.slotLength);
    this.barrier();
    const all: Float32Array[] = [];
    for (let r = 0; r < this.size; r++)
      all.push(this.slots.slice(r * this.slotLength, r * this.slotLength + local.length));
    // Nobody may overwrite a slot before everyone has read it.
    this.barrier();
    return all;
  }

  allReduceSum(local: Float32Array): Float32Array {
    if (local.length > this.slotLength)
      throw new Error(`collective: ${local.length} floats exceed the slot of ${this.slotLength}`);
    this.slots.set(local, this.rank * this.slotLength);
    this.barrier();
    const sum = this.slots.slice(0, local.length);
    for (let r = 1; r < this.size; r++) {
      const offset = r * this.slotLength;
      for (let i = 0; i < local.length; i++) sum[i]! += this.slots[offset + i]!;
    }
    this.barrier();
    return sum;
  }
}
