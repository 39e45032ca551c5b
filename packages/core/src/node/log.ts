// The one place that prints: the CLIs report through this logger so library code stays silent.

/** A line-oriented logger; `info` goes to stdout, `warn` to stderr. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

/** Prints to the process's stdout and stderr. */
export const processLogger: Logger = {
  info: (line) => void process.stdout.write(`${line}\n`),
  warn: (line) => void process.stderr.write(`${line}\n`),
};

/** Discards everything (tests, library use). */
export const silentLogger: Logger = { info: () => {}, warn: () => {} };
