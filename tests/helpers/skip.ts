/**
 * The one rule for tests whose subject is optional on a machine (llhttp's fixtures, a Python
 * package): when it is absent they are skipped, with the reason printed and shown as an ignored
 * test of that name, never silently passed and never failed.
 */

/** Whether `present`; when not, prints `reason` and registers an ignored test that says it. */
export function presentOrSkip(present: boolean, reason: string): boolean {
  if (!present) {
    console.warn(`SKIPPED: ${reason}`);
    Deno.test({ name: `SKIPPED: ${reason}`, ignore: true, fn: () => {} });
  }
  return present;
}
