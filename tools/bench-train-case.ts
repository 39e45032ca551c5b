// One case of `pnpm bench:train` (a network, a precision, full depth or stochastic depth) in a process of its own:
// measureTrainSteps's options as JSON in argv[2]; on stdout, one JSON line with its result and this process's peak
// resident set. In its own process so that the peak is this case's alone, as each PyTorch case's is; in the bench's
// process it was the peak of every network measured so far.
//   node --import tsx tools/bench-train-case.ts '{"arch":"resnet20","survivalRule":"none","survivalProb":0.5,"batchSize":128,"warmup":3,"steps":20}'
import { readFileSync } from 'node:fs';
import { measureTrainSteps, type MeasureOptions, type MeasureResult } from '@depthfold/train';

/** {@link MeasureResult} and the peak resident set, in MB, of the process that measured it. */
export interface CaseResult extends MeasureResult {
  peakRssMb: number;
}

/**
 * This process's peak resident set in MB: Linux's VmHWM (its own high-water mark since exec), as the PyTorch side
 * measures it. maxRSS (getrusage) is only the fallback: Linux carries it across fork and exec, so it can report the
 * parent's memory rather than ours.
 */
function peakRssMb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // no /proc (not Linux)
  }
  return process.resourceUsage().maxRSS / 1024; // KiB
}

const json = process.argv[2];
if (json === undefined) throw new Error('bench-train-case: expected measureTrainSteps options as JSON in argv[2]');
const result = await measureTrainSteps(JSON.parse(json) as MeasureOptions);
const out: CaseResult = { ...result, peakRssMb: peakRssMb() };
process.stdout.write(`${JSON.stringify(out)}\n`);
// The backend's worker threads would keep the process alive.
process.exit(0);
