/**
 * Debian's Chromium, headless, through playwright-core, with the flags this closed network needs
 * (no background networking, no component updates, no sync, no QUIC).
 *
 * @module
 */

import type { Browser } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Launches Chromium (QUIC off unless `extraArgs` has `--enable-quic`); fails naming the package when it is missing. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  }
  // Loaded here, not at the top: playwright-core reads the environment as it loads.
  const { chromium } = await import("playwright-core");
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      ...(extraArgs.includes("--enable-quic") ? [] : ["--disable-quic"]),
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
}
