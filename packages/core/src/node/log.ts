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

/**
 * Runs a CLI's main function; a failure prints `command: message` on stderr (once, when the library already named
 * the command) and exits with status 1, so users see the error rather than a stack trace.
 */
export function runCommand(command: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    processLogger.warn(message.startsWith(`${command}: `) ? message : `${command}: ${message}`);
    process.exit(1);
  });
}
