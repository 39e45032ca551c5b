// The test tiers' one rule for a test that needs something the machine may lack (Chromium, the SwiftShader Vulkan
// driver, an optional package): in CI a missing requirement fails the test, so the suite cannot go green without
// the tier it skipped; on a developer's machine the test skips, loudly (on stderr too, not only in the TAP stream).
import type { TestContext } from 'node:test';

/** Whether `env` is a CI run: `CI` set to anything but empty, `0` or `false` (GitHub Actions, GitLab and most CIs set `CI=true`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** The part of a test context {@link requirement} uses. */
export type SkippableTest = Pick<TestContext, 'skip'>;

/** Where {@link requirement} reports a skip besides the test runner (stderr by default). */
export type SkipWarning = (message: string) => void;

/**
 * Checks one requirement of a test. Met: returns true. Missing in CI: throws, failing the test with `why`. Missing
 * elsewhere: marks the test skipped with `why`, warns on stderr, and returns false (the test must return).
 *
 * @param met - whether the requirement is there.
 * @param why - what is missing and how to install it, e.g. `no /usr/bin/chromium: install Debian's chromium`.
 */
export function requirement(
  t: SkippableTest,
  met: boolean,
  why: string,
  options: { env?: NodeJS.ProcessEnv; warn?: SkipWarning } = {},
): boolean {
  if (met) return true;
  if (isCi(options.env))
    throw new Error(`${why} (CI is set: a missing requirement fails the test instead of skipping it)`);
  (options.warn ?? ((message) => process.stderr.write(`${message}\n`)))(
    `SKIPPED: ${why} (in CI, with CI=true, this fails)`,
  );
  t.skip(why);
  return false;
}
