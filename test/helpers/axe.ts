// axe-core in Chromium for the page suites: WCAG 2.2 AA tags, and a checker
// that runs it on the page now on screen, keeps a screenshot and collects
// every violation (rather than stopping at the first), so one run lists all.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

interface AxeResult {
  violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
}

/** Contexts whose every new document gets axe-core from an init script. */
const prepared = new WeakSet<BrowserContext>();

export async function axe(page: Page): Promise<AxeResult> {
  // Sending axe-core's 550 kB into each page with a script tag took ~300 ms
  // of every check, more than axe's own run: an init script is sent once per
  // context, and Chromium compiles it from its cache at each navigation.
  // The page on screen now still needs the tag, once.
  const context = page.context();
  if (!prepared.has(context)) {
    prepared.add(context);
    await context.addInitScript({ path: AXE });
  }
  if (!(await page.evaluate('"axe" in window'))) await page.addScriptTag({ path: AXE });
  return page.evaluate(`axe.run({ runOnly: { type: 'tag', values: ${JSON.stringify(TAGS)} }, resultTypes: ['violations'] })`) as Promise<AxeResult>;
}

/** `check(name)` for `page`: axe, a screenshot `<shots>/<label>-<name>.png`, a line in `report`, violations into `problems`. */
export function pageChecker(shots: string, report: string[]) {
  return (page: Page, label: string, problems: string[]) => async (name: string) => {
    await page.waitForLoadState();
    const { violations } = await axe(page);
    await page.screenshot({ path: join(shots, `${label}-${name}.png`), fullPage: true });
    report.push(`  ${label} ${name}: ${violations.length} violations`);
    for (const v of violations) problems.push(`${label} ${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.ok(await page.title(), `${name} has a title`);
  };
}
