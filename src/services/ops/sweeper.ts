// Keeps every table that grows with traffic bounded: expired provider
// artifacts (sessions, codes, tokens, used jtis, sign-in states, passkey
// challenges), expired single-use links, expired rate-limit and lockout
// counters, audit rows past the retention. Plain deletes by
// indexed columns, so any number of nodes may run it at once.
import type { Db } from '../../db/database.ts';

/** Self-registration's tables: spent registration tokens and registered clients nobody used. */
export interface RegisteredSweep {
  tokens: { sweep(now: Date): Promise<number> };
  clients: { sweepUnusedRegistered(before: Date): Promise<number> };
  unusedDays: number;
}

export interface SweepResult {
  artifacts: number;
  counters: number;
  lockouts: number;
  links: number;
  audit: number;
  registrationTokens?: number;
  registeredClients?: number;
}

export async function sweep(db: Db, opts: { auditRetentionDays: number; registered?: RegisteredSweep }, now: Date): Promise<SweepResult> {
  const auditCutoff = new Date(now.getTime() - opts.auditRetentionDays * 86_400_000);
  const [artifacts, counters, lockouts, links, audit] = await Promise.all([
    db.oidcPayload.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.rateLimit.deleteMany({ where: { expire: { lt: now } } }),
    db.lockout.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.linkToken.deleteMany({ where: { expiresAt: { lt: now } } }),
    db.auditEvent.deleteMany({ where: { at: { lt: auditCutoff } } }),
  ]);
  const result: SweepResult = { artifacts: artifacts.count, counters: counters.count, lockouts: lockouts.count, links: links.count, audit: audit.count };
  if (opts.registered) {
    const { tokens, clients, unusedDays } = opts.registered;
    result.registrationTokens = await tokens.sweep(now);
    result.registeredClients = await clients.sweepUnusedRegistered(new Date(now.getTime() - unusedDays * 86_400_000));
  }
  return result;
}
