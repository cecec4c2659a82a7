// Rate limits that protect without punishing. Every limited response carries
// the IETF draft fields RateLimit-Limit / -Remaining / -Reset (and
// RateLimit-Policy); a refusal is 429 with Retry-After.
//
// - Pages where a person types a password or a code (login, code, account),
//   and forms that send mail (email):
//   every post counts, per client address, in the shared database store, so
//   all nodes enforce one budget. People post a few times a minute, and each
//   post may cost a bcrypt check. Once a node has refused an address, it
//   refuses it from memory until the window ends.
// - Protocol endpoints machines call (token, introspection, revocation):
//   * ordinary traffic gets a generous quota per client (per address when the
//     request names no client), counted in memory on each node — approximate
//     across nodes, and free: a busy backend is never throttled by default;
//   * failures (failed client authentication, invalid_grant, …) are counted
//     per address and per client in the shared store and throttled tightly.
//     An address over its failure budget is refused before any work is done;
//     a client's failures over its budget are answered 429 instead of their
//     error, while its successful requests are never refused for them (so
//     failures made in a client's name elsewhere cannot lock it out).
//   * an API key exchange without client authentication names no client: its
//     quota is the key's own (only its holder can spend it) and its failures
//     count against the address alone — the built-in client it runs as is
//     shared by every key holder, so counting under that name would let one
//     address spraying bad keys throttle everyone else's valid ones.
// - Things a person makes that outlive the request (API keys): counted per
//   person in the shared store, spent before the creation and given back when
//   it is refused for its input, so only what was made counts.
// - The JSON API (/api): its 401s spend the same per-address failure budget.
// - Authorization requests: per address, in memory (they may each store a
//   sign-in in progress).
import type { Context, Next } from 'koa';
import { RateLimiterMemory, RateLimiterPrisma, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit, RateLimitName } from '../config/env.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { msg } from '../ui/catalogue.ts';
import type { Render } from './koa-render.ts';

type PageLimit = 'login' | 'code' | 'account' | 'authorize' | 'email' | 'device';
type ProtocolLimit = 'token' | 'introspection';
type PersonLimit = 'apiKeys';

/** A point spent from a person's budget (`refund` gives it back), or the refusal. */
export type PersonBudget = { ok: true; refund(): Promise<void> } | { ok: false; retryAfter: number; limit: RateLimit };

export interface RateLimiters {
  /** For pages: a refusal is a friendly HTML page. */
  page(name: PageLimit): (ctx: Context, next: Next) => Promise<void>;
  /** The same per-address budget for a machine endpoint: a refusal is OAuth JSON. */
  addressJson(name: PageLimit): (ctx: Context, next: Next) => Promise<void>;
  /** For protocol endpoints: a per-client quota and a failure budget; refusals are OAuth JSON. */
  protocol(name: ProtocolLimit): (ctx: Context, next: Next) => Promise<void>;
  /**
   * The per-address failure budget for callers whose failures are thrown
   * (the JSON API): an error `counts` is counted; an address over its budget
   * gets the error `refusal` makes instead, before any work from then on.
   */
  failures(counts: (err: unknown) => boolean, refusal: (detail: string, retryAfterSeconds: number) => Error): (ctx: Context, next: Next) => Promise<void>;
  /** A budget per person for an action (whoever calls it knows the person: pages and JSON API alike). */
  person(name: PersonLimit): (personId: string) => Promise<PersonBudget>;
}

/**
 * Who a protocol request says it comes from (unverified: only to pick a
 * counter): a client it names, or else an API key sent as its only
 * credential. Protocol knowledge, handed in by the composition root
 * (src/oidc/claimed-caller.ts).
 */
export type ClaimedCaller = (ctx: Context) => { client?: string; key?: string };

interface Limiter {
  limiter: RateLimiterAbstract;
  limit: RateLimit;
}

/** An OAuth error the caller caused (not a 5xx, not our own 429). */
const isFailure = (ctx: Context) => ctx.status >= 400 && ctx.status < 500 && ctx.status !== 429;

/** Keys refused on this node, until when (ms); at most 10,000, cleared when full (the store still counts them). */
function refusedUntil() {
  const until = new Map<string, number>();
  return {
    until(key: string): number | undefined {
      const at = until.get(key);
      if (at === undefined) return undefined;
      if (at > Date.now()) return at;
      until.delete(key);
      return undefined;
    },
    add(key: string, refused: RateLimiterRes): void {
      if (until.size >= 10_000) until.clear();
      until.set(key, Date.now() + refused.msBeforeNext);
    },
  };
}

export function createRateLimiters(
  db: Db,
  limits: Readonly<Record<RateLimitName, RateLimit | undefined>>,
  log: Logger,
  render: Render,
  claimed: ClaimedCaller,
): RateLimiters {
  const shared = (prefix: string, limit: RateLimit | undefined): Limiter | undefined =>
    limit && {
      limit,
      limiter: new RateLimiterPrisma({
        storeClient: db,
        tableName: 'rateLimit',
        keyPrefix: prefix,
        points: limit.points,
        duration: limit.seconds,
        // Expired counters are deleted by the server's sweep, not a timer per limiter.
        clearExpiredByTimeout: false,
      }),
    };
  const local = (prefix: string, limit: RateLimit | undefined): Limiter | undefined =>
    limit && { limit, limiter: new RateLimiterMemory({ keyPrefix: prefix, points: limit.points, duration: limit.seconds }) };

  const pages: Record<PageLimit, Limiter | undefined> = {
    login: shared('ip:login', limits.login),
    code: shared('ip:code', limits.code),
    account: shared('ip:account', limits.account),
    authorize: local('ip:authorize', limits.authorize),
    email: shared('ip:email', limits.email),
    // The user-code space is small next to what can be typed: every post counts, on every node.
    device: shared('ip:device', limits.device),
  };
  const quotas: Record<ProtocolLimit, Limiter | undefined> = {
    token: local('quota:token', limits.token),
    introspection: local('quota:introspection', limits.introspection),
  };
  const perPerson: Record<PersonLimit, Limiter | undefined> = {
    apiKeys: shared('person:api-keys', limits.apiKeys),
  };
  const failuresByAddress = shared('fail:ip', limits.failures);
  const failuresByClient = shared('fail:client', limits.failures);
  // Addresses this node has refused (for their failures, or a page's budget
  // spent), until when: refused again from memory until their window ends,
  // without counting in the store again (two statements a refusal), so a
  // flood of refused requests costs the shared database nothing; the other
  // nodes go on refusing from the store's count. Two lists, so that a flood
  // of pages' refusals does not clear the failures'.
  const refusedFailures = refusedUntil();
  const refusedPages = refusedUntil();

  function headers(ctx: Context, limit: RateLimit, res: RateLimiterRes): number {
    const reset = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    ctx.set('RateLimit-Limit', String(limit.points));
    ctx.set('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
    ctx.set('RateLimit-Reset', String(reset));
    ctx.set('RateLimit-Policy', `${limit.points};w=${limit.seconds}`);
    return reset;
  }

  /** Consumes a point; the refusal, or undefined. Store failures let the request through. */
  async function consume(entry: Limiter, key: string, ctx: Context | undefined): Promise<RateLimiterRes | undefined> {
    try {
      const res = await entry.limiter.consume(key);
      if (ctx) headers(ctx, entry.limit, res);
      return undefined;
    } catch (err) {
      if (err instanceof RateLimiterRes) return err;
      // The counter store failing must not take sign-in or tokens down with it.
      log.warn({ err }, 'rate limiter unavailable; request allowed');
      return undefined;
    }
  }

  /** Consumes a point of a page's budget, from memory once this node has refused the address. */
  async function consumePage(name: PageLimit, entry: Limiter, address: string, ctx: Context): Promise<RateLimiterRes | undefined> {
    const key = `${name} ${address}`;
    const until = refusedPages.until(key);
    if (until !== undefined) return new RateLimiterRes(0, until - Date.now());
    const refused = await consume(entry, address, ctx);
    if (refused) refusedPages.add(key, refused);
    return refused;
  }

  /** Counts a failure of `address`; the refusal when that spends its budget. */
  async function failed(address: string): Promise<RateLimiterRes | undefined> {
    if (!failuresByAddress) return undefined;
    const refused = await consume(failuresByAddress, address, undefined);
    if (refused) refusedFailures.add(address, refused);
    return refused;
  }

  function refuseJson(ctx: Context, limit: RateLimit, res: RateLimiterRes, what: string): void {
    const retry = headers(ctx, limit, res);
    ctx.set('Retry-After', String(retry));
    ctx.status = 429;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'too_many_requests', error_description: `${what}: at most ${limit.points} per ${limit.seconds} s; retry in ${retry} s` };
  }

  return {
    page(name) {
      return async (ctx, next) => {
        const entry = pages[name];
        if (!entry) return next();
        const refused = await consumePage(name, entry, ctx.ip || 'unknown', ctx);
        if (!refused) return next();
        const retry = headers(ctx, entry.limit, refused);
        ctx.set('Retry-After', String(retry));
        // Refusals come in floods: the page is rendered once per language and wait (koa-render.ts).
        render(
          ctx,
          'error',
          { heading: msg('error.tooManyTitle'), message: msg('error.tooMany', { count: retry }), code: 'too_many_requests', reuse: true },
          429,
        );
      };
    },

    addressJson(name) {
      return async (ctx, next) => {
        const entry = pages[name];
        if (!entry) return next();
        const refused = await consumePage(name, entry, ctx.ip || 'unknown', ctx);
        if (!refused) return next();
        refuseJson(ctx, entry.limit, refused, 'too many requests from this address');
      };
    },

    protocol(name) {
      return async (ctx, next) => {
        const address = ctx.ip || 'unknown';
        const until = refusedFailures.until(address);
        if (until !== undefined) {
          return refuseJson(ctx, failuresByAddress!.limit, new RateLimiterRes(0, until - Date.now()), 'too many failed requests from this address');
        }
        const { client, key } = claimed(ctx);
        const quota = quotas[name];
        if (quota) {
          const [counter, what] = client
            ? [`client:${client}`, `too many requests for client '${client}'`]
            : key
              ? [`key:${key}`, 'too many requests for this API key']
              : [`ip:${address}`, 'too many requests from this address'];
          const refused = await consume(quota, counter, ctx);
          if (refused) return refuseJson(ctx, quota.limit, refused, what);
        }
        await next();
        if (!failuresByAddress || !failuresByClient || !isFailure(ctx)) return;
        const [byAddress, byClient] = await Promise.all([failed(address), client ? consume(failuresByClient, client, undefined) : undefined]);
        if (byAddress) return refuseJson(ctx, failuresByAddress.limit, byAddress, 'too many failed requests from this address');
        if (byClient) refuseJson(ctx, failuresByClient.limit, byClient, `too many failed requests for client '${client}'`);
      };
    },

    person(name) {
      const free: PersonBudget = { ok: true, refund: async () => {} };
      return async (personId) => {
        const entry = perPerson[name];
        if (!entry) return free;
        const refused = await consume(entry, personId, undefined);
        if (refused) return { ok: false, retryAfter: Math.max(1, Math.ceil(refused.msBeforeNext / 1000)), limit: entry.limit };
        return {
          ok: true,
          refund: async () => {
            await entry.limiter.reward(personId, 1).catch((err: unknown) => log.warn({ err }, 'rate limiter unavailable; point not given back'));
          },
        };
      };
    },

    failures(counts, refusal) {
      return async (ctx, next) => {
        if (!failuresByAddress) return next();
        const address = ctx.ip || 'unknown';
        const what = 'too many failed requests from this address';
        const until = refusedFailures.until(address);
        const refuse = (retryMs: number) => {
          const retry = Math.max(1, Math.ceil(retryMs / 1000));
          return refusal(`${what}: at most ${failuresByAddress.limit.points} per ${failuresByAddress.limit.seconds} s; retry in ${retry} s`, retry);
        };
        if (until !== undefined) throw refuse(until - Date.now());
        try {
          await next();
        } catch (err) {
          if (!counts(err)) throw err;
          const refused = await failed(address);
          throw refused ? refuse(refused.msBeforeNext) : err;
        }
      };
    },
  };
}
