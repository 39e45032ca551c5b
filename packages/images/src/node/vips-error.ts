// libvips keeps one error buffer for the whole process. When a decode fails on one thread while another thread's
// operation clears that buffer, sharp finds it empty and reports "Unknown error": the reason is lost, not the failure.
// Seen in CI as "corrupt or truncated JPEG: Unknown error" for a truncated JPEG decoded beside other files.

/** What sharp says when libvips' error buffer was empty at the failure. */
export const UNKNOWN_VIPS_ERROR = 'Unknown error';

/** An error's message, or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs a sharp operation; where it fails without a reason, runs it once more (a failing input fails again, and then
 * usually with its reason) and throws the second failure. Other failures are thrown as they are.
 *
 * @param run - the operation, building its sharp pipeline afresh on each call.
 */
export async function withVipsReason<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (messageOf(error) !== UNKNOWN_VIPS_ERROR) throw error;
    return run();
  }
}
