// GET  /account/api-keys — the person's keys
// GET  /account/api-keys/new — the form: the scopes the person may hold, as
//      checkboxes grouped by API (src/services/api-keys/api-keys.ts,
//      holdableScopes); not offered to someone who may hold none
// POST /account/api-keys — create one; it is shown once
// POST /account/api-keys/:id/revoke — revoke one
// Creating a key asks who you are again (the password, and the current code
// when there is an authenticator app), as adding a passkey does: a key is a
// credential that outlives the session, so an open session alone (a shared
// computer, a stolen cookie) must not be enough to mint one. The form is
// checked first, so a mistake in it costs no password attempt. Each person
// makes at most RATE_LIMIT_API_KEYS keys per window (refused attempts do not
// count) and has at most API_KEY_MAX_PER_OWNER live ones.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import { lockedMessage } from '../interactions/context.ts';
import { formValues } from '../middleware/koa-body.ts';
import type { PersonBudget } from '../middleware/koa-rate-limit.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import { checkCidr } from '../services/api-keys/address-ranges.ts';
import { parseExpiry } from '../services/api-keys/api-key-format.ts';
import type { HoldableScopes } from '../services/api-keys/api-keys.ts';
import { msg } from '../ui/catalogue.ts';
import { accountOf, backWith, failWith, field, keysSectionShown, meta, renderAccount, type AccountDeps } from './context.ts';

export function showApiKeys(deps: AccountDeps) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    // The keys a page at a time (`?keys=` is the position after the last one shown).
    const cursor = typeof ctx.query.keys === 'string' && ctx.query.keys ? ctx.query.keys : undefined;
    const keyPage = (at: string | undefined) => deps.apiKeys.page({ owner: { userId: accountId }, cursor: at });
    const keys = await keyPage(cursor).catch((err: unknown) => {
      if (!(err instanceof AppError)) throw err;
      failWith(ctx, [{ message: msg('keys.badCursor') }], 200);
      return keyPage(undefined);
    });
    const section = await keysSectionShown(deps, accountId);
    await renderAccount(deps, ctx, 'api-keys', 'keys', {
      apiKeys: keys.items,
      apiKeysNext: keys.nextCursor,
      apiKeysLater: cursor !== undefined,
      canCreate: section.canCreate,
      nav: { apiKeys: true },
    });
  };
}

const DAY = 86400;

/** The lifetimes the form offers: a week, a month, a quarter, a year, each within API_KEY_MAX_TTL (and the limit itself). */
function expiryChoices(maxTtl: number): { value: string; days?: number; hours?: number }[] {
  const days = [7, 30, 90, 365].filter((d) => d * DAY <= maxTtl);
  const longest = Math.floor(maxTtl / DAY);
  if (longest >= 1 && !days.includes(longest)) days.push(longest);
  if (!days.length) return [{ value: `${Math.max(1, Math.floor(maxTtl / 3600))}h`, hours: Math.max(1, Math.floor(maxTtl / 3600)) }];
  return days.map((d) => ({ value: `${d}d`, days: d }));
}

async function renderNewKey(deps: AccountDeps, ctx: Context, holdable: HoldableScopes[], values: Record<string, unknown> = {}) {
  const accountId = accountOf(ctx);
  const choices = expiryChoices(deps.apiKeys.personMaxTtl);
  const expiryOptions = choices.map((c) => ({
    value: c.value,
    label: deps.say(ctx, c.days ? msg('newKey.days', { count: c.days }) : msg('newKey.hours', { count: c.hours! })),
  }));
  await renderAccount(deps, ctx, 'new-api-key', 'keys', {
    holdable,
    expiryOptions,
    values: { scopes: [], expires: choices.some((c) => c.value === '90d') ? '90d' : choices.at(-1)!.value, ...values },
    hasTotp: await deps.users.hasTotp(accountId),
    nav: { apiKeys: true },
    returnTo: '/account/api-keys/new',
  });
}

export function showNewApiKey(deps: AccountDeps) {
  return async (ctx: Context) => {
    const holdable = await deps.apiKeys.holdableScopes(accountOf(ctx));
    // Nobody is offered a form for keys they could not hold anything with.
    if (!holdable.length) return backWith(ctx, 'keys', 'none-holdable');
    await renderNewKey(deps, ctx, holdable);
  };
}

interface KeyRequest {
  scope: string;
  resource: string | undefined;
}

/**
 * The scopes chosen: checkboxes `scopes` ("<API> <scope>", each one the
 * person may hold) or, from a script, `scope` (space-separated) and an
 * optional `resource`. Scopes of one API make a key for that API only.
 */
function chosenScopes(ctx: Context, holdable: HoldableScopes[]): KeyRequest | FieldError {
  const held = (resource: string, scope: string) => holdable.some((h) => h.resource === resource && h.scopes.includes(scope));
  const boxes = formValues(ctx, 'scopes').filter(Boolean);
  if (boxes.length) {
    const picked = boxes.map((b) => {
      const at = b.indexOf(' ');
      return { resource: b.slice(0, at), scope: b.slice(at + 1) };
    });
    const refused = picked.find((p) => !held(p.resource, p.scope));
    if (refused) return { field: 'key-scopes', message: msg('newKey.scopeNotHeld', { scope: refused.scope }) };
    const apis = [...new Set(picked.map((p) => p.resource))];
    return { scope: [...new Set(picked.map((p) => p.scope))].join(' '), resource: apis.length === 1 ? apis[0] : undefined };
  }
  const scopes = field(ctx, 'scope').split(/\s+/).filter(Boolean);
  const resource = field(ctx, 'resource') || undefined;
  if (!scopes.length) return { field: 'key-scopes', message: msg('newKey.noScopes') };
  const refused = scopes.find((s) => !holdable.some((h) => (!resource || h.resource === resource) && h.scopes.includes(s)));
  if (refused) return { field: 'key-scopes', message: msg('newKey.scopeNotHeld', { scope: refused }) };
  return { scope: scopes.join(' '), resource };
}

/** What is wrong with the form, field by field (nothing is checked against the password yet). */
function checkForm(deps: AccountDeps, ctx: Context, holdable: HoldableScopes[]): { errors: FieldError[]; key?: KeyRequest } {
  const errors: FieldError[] = [];
  const name = field(ctx, 'name').trim();
  if (!name || name.length > 100) errors.push({ field: 'key-name', message: msg('newKey.noName') });
  const scopes = chosenScopes(ctx, holdable);
  if ('message' in scopes) errors.push(scopes);
  const expires = field(ctx, 'expires');
  if (expires) {
    try {
      const now = deps.clock.now();
      const at = parseExpiry(expires, now);
      if (at.getTime() > now + deps.apiKeys.personMaxTtl * 1000 + 60_000) {
        errors.push({ field: 'key-expires', message: msg('newKey.tooLong', { count: Math.floor(deps.apiKeys.personMaxTtl / DAY) }) });
      }
    } catch {
      errors.push({ field: 'key-expires', message: msg('newKey.badExpiry') });
    }
  }
  try {
    field(ctx, 'allowed_ips')
      .split(/[\s,]+/)
      .filter(Boolean)
      .forEach(checkCidr);
  } catch {
    errors.push({ field: 'key-ips', message: msg('newKey.badIps') });
  }
  return { errors, key: 'message' in scopes ? undefined : scopes };
}

export function createApiKey(deps: AccountDeps, budget: (personId: string) => Promise<PersonBudget>) {
  return async (ctx: Context) => {
    const accountId = accountOf(ctx);
    const body = ctx.request.body as Record<string, string>;
    // Whatever the outcome, the form comes back as it was filled in (never the password or code).
    const values = {
      name: body.name ?? '',
      expires: body.expires ?? '',
      allowed_ips: body.allowed_ips ?? '',
      scopes: formValues(ctx, 'scopes'),
    };
    const holdable = await deps.apiKeys.holdableScopes(accountId);
    const again = (errors: FieldError[], status: number) => {
      failWith(ctx, errors, status);
      return renderNewKey(deps, ctx, holdable, values);
    };
    if (!holdable.length) return again([{ message: msg('keys.cannotHold') }], 403);
    const form = checkForm(deps, ctx, holdable);
    if (form.errors.length || !form.key) return again(form.errors, 400);
    const proof = await deps.signIn.reauthenticate(accountId, { password: field(ctx, 'password'), code: field(ctx, 'code') }, meta(ctx));
    if (proof.kind !== 'ok') {
      if (proof.kind === 'locked') return again([{ field: 'key-password', message: lockedMessage(proof.until, deps.clock.now()) }], 429);
      return again(
        [proof.reason === 'code' ? { field: 'key-code', message: msg('reauth.wrongCode') } : { field: 'key-password', message: msg('reauth.wrongPassword') }],
        400,
      );
    }
    const spent = await budget(accountId);
    if (!spent.ok) {
      ctx.set('Retry-After', String(spent.retryAfter));
      return again([{ message: msg('newKey.rate', { count: Math.max(1, Math.ceil(spent.retryAfter / 60)) }) }], 429);
    }
    try {
      const { key, record } = await deps.apiKeys.create(
        {
          owner: { userId: accountId, self: true },
          name: values.name,
          scope: form.key.scope,
          resource: form.key.resource,
          expires: values.expires || undefined,
          allowIps: values.allowed_ips.split(/[\s,]+/).filter(Boolean),
        },
        meta(ctx),
      );
      ctx.set('Cache-Control', 'no-store');
      deps.render(ctx, 'api-key-created', { key, record, returnTo: '/account/api-keys' });
    } catch (err) {
      await spent.refund();
      if (!(err instanceof AppError) || (err.code !== 'invalid_input' && err.code !== 'conflict')) throw err;
      return again([{ message: err.code === 'conflict' ? msg('newKey.cap', { count: deps.apiKeys.maxPerOwner }) : msg('newKey.notCreated') }], err.status);
    }
  };
}

export function revokeApiKey({ apiKeys }: AccountDeps) {
  return async (ctx: Context) => {
    await apiKeys.revoke(String(ctx.params.id), meta(ctx), { userId: accountOf(ctx) });
    backWith(ctx, 'keys', 'api-key-revoked');
  };
}
