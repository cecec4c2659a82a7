// The scenarios. Each one, given a server (Latchkey or the baseline) and a
// concurrency, prepares whatever its workers need outside the timed window
// (refresh-token chains, signed assertions, pending interactions) and
// returns one operation per worker for the closed-loop generator.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey } from 'jose';
import type { Pool } from 'undici';
import type { Op, OpResult } from './load.ts';
import { API_JWT, API_OPAQUE, type AppClient, type Fixture } from './setup.ts';
import type { Db } from './report.ts';
import { basicAuth, csrfToken, formAction, pkce, send, UserAgent } from './user-agent.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface Target {
  kind: 'latchkey' | 'baseline';
  db: Db;
  origin: string;
  pool: Pool;
  fixture: Fixture;
}

export interface ScenarioInfo {
  name: string;
  /** What one operation is. */
  unit: string;
  description: string;
  /** Nothing to compare with in the bare library (e.g. API keys): the baseline skips it. */
  latchkeyOnly?: true;
}

export const SCENARIOS: ScenarioInfo[] = [
  { name: 'refresh-rs256', unit: 'req', description: 'refresh_token grant with rotation, each worker on its own chain; RS256 ID token' },
  { name: 'refresh-es256', unit: 'req', description: 'the same for a client with ES256 ID tokens' },
  { name: 'jwt-bearer', unit: 'req', description: 'RFC 7523 grant, ES256 assertion with a fresh jti, JWT (RS256) access token for a resource' },
  { name: 'client-credentials', unit: 'req', description: 'client_credentials (client_secret_basic), JWT (RS256) access token for a resource' },
  { name: 'introspection', unit: 'req', description: 'introspection of one opaque access token (client_secret_basic)' },
  {
    name: 'api-key-introspection',
    unit: 'req',
    description: 'introspection of one API key by its resource server (client_secret_basic, caller_ip in range)',
    latchkeyOnly: true,
  },
  { name: 'userinfo', unit: 'req', description: 'GET /me with an opaque bearer token from a code flow' },
  { name: 'code-flow', unit: 'flow', description: 'authorize → login page → password → consent → code → token, new cookie jar per flow (9 requests)' },
  { name: 'sso-flow', unit: 'flow', description: 'authorize with an SSO session and remembered consent → code → token (2 requests)' },
  { name: 'password-login', unit: 'login', description: 'the login form POST alone (authorize and login page prepared beforehand); latency of the POST' },
  { name: 'jwks', unit: 'req', description: 'GET /jwks' },
  { name: 'discovery', unit: 'req', description: 'GET /.well-known/openid-configuration' },
];

export type ScenarioName = (typeof SCENARIOS)[number]['name'];

export interface Prepared {
  workers: Op[];
  /** Facts about the run worth keeping (e.g. assertions signed inline). */
  notes: () => Record<string, number>;
}

const fail = (status: number, error?: string): OpResult => ({ ok: false, status, error });

/** Walks authorize → (login) → (consent) → callback → token. */
export async function codeFlow(
  target: Target,
  ua: UserAgent,
  client: AppClient,
  opts: { scope: string; prompt?: string; person?: { email: string; password: string } },
): Promise<OpResult & { tokens?: Record<string, string> }> {
  const { verifier, challenge } = pkce();
  const state = randomUUID();
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: opts.scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce: randomUUID(),
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
  });
  let step = await ua.navigate(`/auth?${query}`);
  for (let i = 0; i < 4 && step.page; i++) {
    const { page } = step;
    if (page.status !== 200) return fail(page.status, `page ${page.status} at ${new URL(page.url).pathname.split('/').slice(0, 2).join('/')}`);
    const csrf = csrfToken(page.text);
    const login = formAction(page.text, '/login');
    const confirm = formAction(page.text, '/confirm');
    if (login && csrf) {
      if (!opts.person) return fail(page.status, 'login page without credentials');
      step = await ua.navigate(login, { form: { csrf, email: opts.person.email, password: opts.person.password } });
    } else if (confirm && csrf) {
      step = await ua.navigate(confirm, { form: { csrf } });
    } else {
      return fail(page.status, 'unexpected page');
    }
  }
  if (!step.redirect) return fail(step.page?.status ?? 0, 'never got back to the app');
  const callback = new URL(step.redirect);
  const code = callback.searchParams.get('code');
  if (!code || callback.searchParams.get('state') !== state) return fail(303, `callback without code: ${callback.searchParams.get('error') ?? '?'}`);
  const res = await send(target.pool, '/token', {
    form: { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier },
    headers: { authorization: basicAuth(client.clientId, client.clientSecret) },
  });
  if (res.status !== 200) return fail(res.status, `token ${res.status}`);
  return { ok: true, status: 200, tokens: JSON.parse(res.text) as Record<string, string> };
}

/**
 * Set-up steps (sessions, refresh chains, tokens to introspect) wait out a
 * rate limit (429) instead of failing the run: with the server's default
 * limits on, the measured runs use the budget up and report the 429s.
 */
async function patiently<T extends OpResult>(what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 130_000;
  for (;;) {
    const r = await fn();
    if (r.ok) return r;
    if (r.status !== 429 || Date.now() > deadline) throw new Error(`${what}: ${r.error ?? r.status}`);
    await new Promise((res) => setTimeout(res, 5000));
  }
}

/** A pending login: authorize done, login page read, ready for the POST. */
interface PendingLogin {
  ua: UserAgent;
  action: string;
  csrf: string;
  person: { email: string; password: string };
}

/**
 * Authorize and the login page, ready for the POST; or the refusal met on the
 * way. With the server's default limits one load generator (one address) meets
 * the per-address authorization and login limits within seconds: a refusal is
 * a result to count, not a reason to stop the run.
 */
async function pendingLogin(target: Target, person: { email: string; password: string }): Promise<PendingLogin | OpResult> {
  const ua = new UserAgent(target.pool, target.origin);
  const client = target.fixture.app;
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    state: randomUUID(),
  });
  const { page } = await ua.navigate(`/auth?${query}`);
  const action = page && formAction(page.text, '/login');
  const csrf = page && csrfToken(page.text);
  if (page?.status !== 200 || !action || !csrf) return fail(page?.status ?? 0, `no login page (${page?.status ?? 'redirect'})`);
  return { ua, action, csrf, person };
}

const isPending = (p: PendingLogin | OpResult): p is PendingLogin => 'action' in p;

/** The login POST alone; its latency is what gets recorded. */
async function postLogin(p: PendingLogin): Promise<OpResult> {
  const t0 = process.hrtime.bigint();
  const res = await p.ua.request(p.action, { form: { csrf: p.csrf, email: p.person.email, password: p.person.password }, read: false });
  const latencyNs = Number(process.hrtime.bigint() - t0);
  return res.status === 303 || res.status === 302 ? { ok: true, status: res.status, latencyNs } : { ok: false, status: res.status, latencyNs };
}

/** An operation that logs in flat out (for the login storm): prepares and posts inline. */
export function loginOp(target: Target, index: number): Op {
  const person = target.fixture.people[index % target.fixture.people.length]!;
  return async () => {
    const p = await pendingLogin(target, person);
    if (isPending(p)) return postLogin(p);
    if (p.status === 429) return p;
    throw new Error(`${target.kind}: ${p.error}`);
  };
}

/** The fewest refresh chains (grants) a refresh run spreads over, whatever its workers. */
const MIN_REFRESH_CHAINS = 8;

/**
 * Scenario state for one server: signed-in browsers are created once and
 * reused across concurrency levels (creating a session costs a bcrypt at the
 * configured cost); refresh chains are made again for every run.
 */
export function scenarioSet(target: Target) {
  const { fixture, pool } = target;
  const people = fixture.people;
  const sessions: UserAgent[] = [];
  const chains: Record<'app' | 'appEs256', string[]> = { app: [], appEs256: [] };
  let userinfoToken: string | undefined;
  let opaqueToken: string | undefined;
  let assertionKey: CryptoKey | undefined;
  let lastRate: Partial<Record<string, number>> = {};

  async function signedIn(n: number): Promise<UserAgent[]> {
    while (sessions.length < n) {
      const batch = Array.from({ length: Math.min(8, n - sessions.length) }, async (_, k) => {
        const i = sessions.length + k;
        const ua = new UserAgent(pool, target.origin);
        await patiently(`${target.kind}: could not sign in person ${i}`, () => {
          ua.clear();
          return codeFlow(target, ua, fixture.app, { scope: 'openid email profile', person: people[i % people.length]! });
        });
        return ua;
      });
      sessions.push(...(await Promise.all(batch)));
    }
    return sessions.slice(0, n);
  }

  /**
   * `n` refresh chains for one run, none on a grant that holds an earlier
   * run's refresh tokens. A chain kept from an earlier run would carry its
   * grant's history: the bare library's in-memory adapter lists every token
   * of a grant, and walks the whole list at each token it stores
   * (`setGrantMembers`), so its refresh got slower the more the bench had
   * refreshed before, a cost no store in production pays. Revoking a
   * chain's refresh token revokes its grant (oidc-provider's default
   * `revokeGrantPolicy`, on both servers); the next code flow's consent then
   * makes a new one. (A session that never had a chain keeps the grant it
   * signed in with, which holds only that sign-in's tokens.) Within a run
   * the list still grows, by the run's refreshes ÷ its chains: at least
   * MIN_REFRESH_CHAINS chains share a run, so that at one worker one grant
   * does not take them all. Unmeasured, like every set-up.
   */
  async function refreshChains(which: 'app' | 'appEs256', n: number): Promise<string[]> {
    const uas = await signedIn(n);
    const client = fixture[which];
    const old = chains[which].splice(0);
    await Promise.all(
      old.map((token) =>
        patiently(`${target.kind}: revoking a refresh chain`, async () => {
          const res = await send(pool, '/token/revocation', {
            form: { token, token_type_hint: 'refresh_token' },
            headers: { authorization: basicAuth(client.clientId, client.clientSecret) },
          });
          return res.status === 200 ? { ok: true, status: 200 } : fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
        }),
      ),
    );
    const list = chains[which];
    while (list.length < n) {
      const i = list.length;
      const r = await patiently(`${target.kind}: no refresh token for chain ${i}`, () =>
        codeFlow(target, uas[i]!, fixture[which], { scope: 'openid offline_access', prompt: 'consent' }),
      );
      if (!r.tokens?.refresh_token) throw new Error(`${target.kind}: chain ${i} got no refresh token`);
      list.push(r.tokens.refresh_token);
    }
    return list;
  }

  const get =
    (path: string, headers: Record<string, string> = {}): Op =>
    async () => {
      const res = await send(pool, path, { headers, read: false });
      return { ok: res.status === 200, status: res.status };
    };

  async function prepare(name: ScenarioName, concurrency: number, durationS: number): Promise<Prepared> {
    const noNotes = () => ({});
    const range = Array.from({ length: concurrency }, (_, i) => i);
    switch (name) {
      case 'refresh-rs256':
      case 'refresh-es256': {
        const which = name === 'refresh-rs256' ? 'app' : 'appEs256';
        const client = fixture[which];
        // Below MIN_REFRESH_CHAINS workers, each worker takes its chains in turn, so that a
        // run's refreshes spread over as many grants as at 8 workers (see refreshChains).
        const chainCount = Math.max(concurrency, MIN_REFRESH_CHAINS);
        const list = await refreshChains(which, chainCount);
        let rebuilt = 0;
        const workers = range.map((i): Op => {
          const mine = Array.from({ length: Math.ceil((chainCount - i) / concurrency) }, (_, k) => i + k * concurrency);
          let turn = 0;
          return async () => {
            const j = mine[turn++ % mine.length]!;
            const res = await send(pool, '/token', {
              form: { grant_type: 'refresh_token', refresh_token: list[j]! },
              headers: { authorization: basicAuth(client.clientId, client.clientSecret) },
            });
            if (res.status === 200) {
              list[j] = (JSON.parse(res.text) as { refresh_token: string }).refresh_token;
              return { ok: true, status: 200 };
            }
            // A refused rotation (invalid_grant) leaves the chain dead: start a
            // new one so the worker carries on, and count it.
            if (res.status === 400) {
              rebuilt++;
              const r = await codeFlow(target, sessions[j]!, client, { scope: 'openid offline_access', prompt: 'consent' });
              if (r.tokens?.refresh_token) list[j] = r.tokens.refresh_token;
            }
            return fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
          };
        });
        return { workers, notes: () => ({ chainsRebuilt: rebuilt }) };
      }
      case 'jwt-bearer': {
        const sa = fixture.serviceAccount;
        assertionKey ??= (await importJWK(sa.privateJwk, 'ES256')) as CryptoKey;
        const key = assertionKey;
        const aud = `${target.origin}/token`;
        const sign = () => {
          const now = Math.floor(Date.now() / 1000);
          return new SignJWT({ iss: sa.clientId, sub: sa.clientId, aud, iat: now, exp: now + 300, jti: randomUUID() })
            .setProtectedHeader({ alg: 'ES256', kid: sa.privateJwk.kid })
            .sign(key);
        };
        // Signed ahead so the client's signing does not pace the server:
        // enough for 1.5× the last measured rate (inline beyond that, counted).
        const expected = Math.ceil((lastRate[name] ?? 400) * durationS * 1.5) + concurrency * 10;
        const buffer = await Promise.all(Array.from({ length: Math.min(expected, 60_000) }, sign));
        let inline = 0;
        const workers = range.map(
          (): Op => async () => {
            let assertion = buffer.pop();
            if (!assertion) {
              inline++;
              assertion = await sign();
            }
            const res = await send(pool, '/token', {
              form: { grant_type: JWT_BEARER, assertion, client_id: sa.clientId, scope: 'api.read', resource: API_JWT },
            });
            return res.status === 200 ? { ok: true, status: 200 } : fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
          },
        );
        return { workers, notes: () => ({ assertionsPresigned: expected, assertionsSignedInline: inline }) };
      }
      case 'client-credentials': {
        const m = fixture.machine;
        const workers = range.map(
          (): Op => async () => {
            const res = await send(pool, '/token', {
              form: { grant_type: 'client_credentials', scope: 'api.read', resource: API_JWT },
              headers: { authorization: basicAuth(m.clientId, m.clientSecret) },
            });
            return res.status === 200 ? { ok: true, status: 200 } : fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
          },
        );
        return { workers, notes: noNotes };
      }
      case 'introspection': {
        const m = fixture.machine;
        const auth = basicAuth(m.clientId, m.clientSecret);
        if (!opaqueToken) {
          const r = await patiently(`${target.kind}: no opaque token`, async () => {
            const res = await send(pool, '/token', {
              form: { grant_type: 'client_credentials', scope: 'api.read', resource: API_OPAQUE },
              headers: { authorization: auth },
            });
            return { ok: res.status === 200, status: res.status, error: res.text.slice(0, 200), text: res.text };
          });
          opaqueToken = (JSON.parse(r.text) as { access_token: string }).access_token;
        }
        const token = opaqueToken;
        const workers = range.map(
          (): Op => async () => {
            const res = await send(pool, '/token/introspection', { form: { token }, headers: { authorization: auth } });
            if (res.status !== 200) return fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
            return res.text.includes('"active":true') ? { ok: true, status: 200 } : fail(200, 'inactive');
          },
        );
        return { workers, notes: noNotes };
      }
      case 'api-key-introspection': {
        const k = fixture.apiKey;
        if (!k) throw new Error('api-key-introspection needs the Latchkey fixture');
        const auth = basicAuth(k.resourceServer.clientId, k.resourceServer.clientSecret);
        const workers = range.map(
          (): Op => async () => {
            const res = await send(pool, '/token/introspection', { form: { token: k.key, caller_ip: '10.1.2.3' }, headers: { authorization: auth } });
            if (res.status !== 200) return fail(res.status, `${res.status} ${res.text.slice(0, 80)}`);
            return res.text.includes('"active":true') ? { ok: true, status: 200 } : fail(200, 'inactive');
          },
        );
        return { workers, notes: noNotes };
      }
      case 'userinfo': {
        if (!userinfoToken) {
          const [ua] = await signedIn(1);
          const r = await patiently(`${target.kind}: no access token for userinfo`, () =>
            codeFlow(target, ua!, fixture.app, { scope: 'openid email profile' }),
          );
          userinfoToken = r.tokens!.access_token;
        }
        return { workers: range.map(() => get('/me', { authorization: `Bearer ${userinfoToken}` })), notes: noNotes };
      }
      case 'code-flow': {
        const workers = range.map((i): Op => {
          const ua = new UserAgent(pool, target.origin);
          const person = people[i % people.length]!;
          return async () => {
            ua.clear();
            return codeFlow(target, ua, fixture.app, { scope: 'openid email profile', person });
          };
        });
        return { workers, notes: noNotes };
      }
      case 'sso-flow': {
        const uas = await signedIn(concurrency);
        const workers = uas.map(
          (ua): Op =>
            () =>
              codeFlow(target, ua, fixture.app, { scope: 'openid email profile' }),
        );
        return { workers, notes: noNotes };
      }
      case 'password-login': {
        // Prepared ahead: 1.5× the last measured rate (bcrypt-bound, so a
        // handful per second), inline beyond that (counted).
        const expected = Math.ceil((lastRate[name] ?? 8) * durationS * 1.5) + concurrency * 2;
        // With the limits on, preparing stops at the first refusal: the
        // measured run then meets the limits itself and counts them.
        const queue: PendingLogin[] = [];
        let refusedWhilePreparing = 0;
        for (let k = 0; k < expected && !refusedWhilePreparing; k += 16) {
          const batch = await Promise.all(Array.from({ length: Math.min(16, expected - k) }, (_, j) => pendingLogin(target, people[(k + j) % people.length]!)));
          for (const p of batch) {
            if (isPending(p)) queue.push(p);
            else if (p.status === 429) refusedWhilePreparing++;
            else throw new Error(`${target.kind}: ${p.error}`);
          }
        }
        const prepared = queue.length;
        let inline = 0;
        const workers = range.map(
          (i): Op =>
            async () => {
              let p: PendingLogin | OpResult | undefined = queue.pop();
              if (!p) {
                inline++;
                p = await pendingLogin(target, people[i % people.length]!);
              }
              if (isPending(p)) return postLogin(p);
              if (p.status === 429) return p;
              throw new Error(`${target.kind}: ${p.error}`);
            },
        );
        return { workers, notes: () => ({ loginsPrepared: prepared, loginsPreparedInline: inline, refusedWhilePreparing }) };
      }
      case 'jwks':
        return { workers: range.map(() => get('/jwks')), notes: noNotes };
      case 'discovery':
        return { workers: range.map(() => get('/.well-known/openid-configuration')), notes: noNotes };
      default:
        throw new Error(`unknown scenario ${name}`);
    }
  }

  return {
    prepare,
    /** Tells the set the rate a scenario reached, to size the next pre-signed / pre-prepared supply. */
    observed(name: string, rps: number) {
      lastRate = { ...lastRate, [name]: rps };
    },
  };
}
