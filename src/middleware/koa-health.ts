// Liveness and readiness for load balancers and orchestrators. The public
// /readyz says only which checks pass; why one fails (database error text,
// key ids, migration names) is for operators: the operators' listener
// answers with the details, and a failure is logged.
import type { Context } from 'koa';
import type { Db } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { databaseChecks, type Check } from '../services/ops/readiness.ts';

export async function healthz(ctx: Context): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { status: 'ok' };
}

export interface ReadinessDeps {
  db: Db;
  migrationsDir: string;
  signingKids: () => string[];
  log: Logger;
}

export function readyz({ db, migrationsDir, signingKids, log }: ReadinessDeps, opts: { detailed: boolean }) {
  return async (ctx: Context) => {
    const kids = signingKids();
    const checks: Record<string, Check> = {
      ...(await databaseChecks(db, migrationsDir)),
      signing_key: kids.length ? { ok: true, detail: kids.join(', ') } : { ok: false, detail: 'no active signing key' },
    };
    const ready = Object.values(checks).every((c) => c.ok);
    if (!ready && !opts.detailed) log.warn({ checks }, 'not ready');
    ctx.status = ready ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = {
      status: ready ? 'ready' : 'not_ready',
      checks: opts.detailed ? checks : Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }])),
    };
  };
}
