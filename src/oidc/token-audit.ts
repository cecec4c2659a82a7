// Token-endpoint outcomes for the audit trail (src/services/admin/token-usage.ts):
// every issued token counted per client and grant type, every refusal at the
// token, introspection and revocation endpoints recorded (rate-bounded there).
// Listeners on the provider's own events: nothing is added to a token
// request's path but a map update.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { claimedClient } from './claimed-caller.ts';
import type { TokenFailure, TokenUsage } from '../services/admin/token-usage.ts';

const ENDPOINTS = { 'grant.error': 'token', 'introspection.error': 'introspection', 'revocation.error': 'revocation' } as const;

type OidcContext = Context & { oidc?: { client?: { clientId: string }; params?: Record<string, unknown> } };

function failureOf(ctx: OidcContext, endpoint: TokenFailure['endpoint'], error: string, description: string | undefined): TokenFailure {
  const authenticated = ctx.oidc?.client?.clientId;
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const grantType = ctx.oidc?.params?.grant_type ?? body.grant_type;
  return {
    clientId: authenticated ?? claimedClient(ctx),
    authenticated: authenticated !== undefined,
    endpoint,
    grantType: endpoint === 'token' && typeof grantType === 'string' ? grantType : undefined,
    error,
    description,
    ip: ctx.ip,
    userAgent: ctx.get('user-agent') || undefined,
  };
}

export function recordTokenUsage(provider: Provider, usage: TokenUsage): void {
  const on = provider.on.bind(provider) as (event: string, fn: (ctx: OidcContext, err?: { error?: string }) => void) => void;
  on('grant.success', (ctx) => {
    const clientId = ctx.oidc?.client?.clientId;
    const grantType = ctx.oidc?.params?.grant_type;
    if (clientId && typeof grantType === 'string') usage.issued(clientId, grantType);
  });
  for (const [event, endpoint] of Object.entries(ENDPOINTS)) {
    on(event, (ctx, err) => {
      // The body's description, after src/oidc/error-details.ts promoted the reason into it.
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      usage.failed(failureOf(ctx, endpoint, body?.error ?? err?.error ?? 'invalid_request', body?.error_description));
    });
  }
}

/** For refusals the token pre-parser answers before the provider sees the request. */
export function preparserFailures(usage: TokenUsage) {
  return (ctx: Context, error: string, description: string) => usage.failed(failureOf(ctx, 'token', error, description));
}
