// GET /admin — the console's start: how many people, apps, APIs, service
// accounts, sessions and soon-expiring keys there are, the signing keys'
// stages, sign-ins and failures over the last 24 hours and 30 days (SVG
// charts drawn here, src/console/sign-in-chart.ts), and the most recent audit events.
import type { Context } from 'koa';
import { renderConsole, type ConsoleDeps } from './context.ts';
import { signInChart } from './sign-in-chart.ts';

const RECENT = 10;

export function showOverview(deps: ConsoleDeps) {
  return async (ctx: Context) => {
    const [counts, recent, activity] = await Promise.all([deps.admin.overview(), deps.admin.audit.page({ limit: RECENT }), deps.admin.audit.signInActivity()]);
    const stages = new Map<string, number>();
    for (const k of counts.signingKeys) stages.set(k.state, (stages.get(k.state) ?? 0) + 1);
    renderConsole(deps, ctx, 'overview', 'overview', {
      counts,
      stages: { active: stages.get('active') ?? 0, next: stages.get('next') ?? 0, retiring: stages.get('retiring') ?? 0 },
      events: recent.items,
      hourly: signInChart('sign-ins-hourly', 'hour', activity.hourly),
      daily: signInChart('sign-ins-daily', 'day', activity.daily),
    });
  };
}
