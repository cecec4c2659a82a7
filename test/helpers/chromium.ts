// Debian's Chromium driven by playwright-core (no browser download).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Chromium, launched a second time if the first launch fails. CI once lost a
 * whole Chromium suite in its `before` hook at the start of a run, while four
 * test processes and a CLI load test shared two cores (which step failed was
 * cut from CI's output; a launch is the step outside our code). A browser that
 * did not come up is not what any suite tests. The first failure still goes
 * to stderr, so a launch that keeps failing is seen, not hidden.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // playwright gives every launch a fresh, empty profile directory of its own.
  const launch = () => chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: LAUNCH_ARGS, timeout: 90_000 });
  try {
    return await launch();
  } catch (err) {
    process.stderr.write(`Chromium did not start (${(err as Error).message.split('\n')[0]}); launching it again\n`);
    return launch();
  }
}
