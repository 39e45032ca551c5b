// The engine that trains in this thread: one replica, no collective.
import { Replica } from './replica.js';
import type { Batch, EngineInit, StepOutcome, StepSettings, TrainEngine } from './engine.js';

/** Trains on the tfjs backend already selected in this thread. */
export class LocalEngine implements TrainEngine {
  readonly workers = 1;
  private readonly replica: Replica;

  constructor(init: EngineInit) {
    this.replica = new Replica(init);
  }

  step(batch: Batch, settings: StepSettings): Promise<StepOutcome> {
    return this.replica.step(batch, settings, batch.count);
  }

  evaluate(batch: Batch, survivalProbs: readonly number[]) {
    return this.replica.evaluate(batch, survivalProbs);
  }

  state() {
    return this.replica.state();
  }

  async dispose(): Promise<void> {
    this.replica.dispose();
  }
}
