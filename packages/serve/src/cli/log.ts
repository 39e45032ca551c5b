// The one place the server's CLI prints: lines to stdout (info) and stderr (warnings); the library stays silent.

/** A line-oriented logger. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

/** Prints to the process's stdout and stderr. */
export const processLogger: Logger = {
  info: (line) => void process.stdout.write(`${line}\n`),
  warn: (line) => void process.stderr.write(`${line}\n`),
};
