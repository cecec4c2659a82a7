// The time Latchkey's own rules read: lockout windows, link, ceremony and
// sign-in-state expiry, API key expiry and last use, audit buckets, secret
// overlaps, signing-key stages, the per-node config cache, TOTP steps,
// back-channel logout retries. One object per runtime
// (src/runtime.ts), handed to every service and rule that reads the time, so
// that a test moves time instead of sleeping: `runtime.clock.now = () => …`.
//
// Not on this clock: oidc-provider reads the system time itself (its tokens'
// exp and iat, a session's auth_time, its stored artifacts' expiry), and so
// do the checks of what it issued (src/oidc/adapter.ts, src/api/bearer-auth.ts,
// the step-up rule in src/api/me-api-keys.ts), so that the provider and its
// checks agree; so do the grants that run inside it (src/oidc/grants/:
// assertion and partner-token lifetimes, key expiry at jwt-bearer) and the
// DPoP proofs; rate-limiter-flexible keeps its own windows too.

/** Milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** The real time: what production runs on. A new object each time, so that moving one runtime's clock moves no other. */
export const systemClock = (): Clock => ({ now: () => Date.now() });
