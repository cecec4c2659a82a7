// oidc-provider answers most token-endpoint refusals with a fixed
// description ("grant request is invalid") and keeps the useful reason in
// `error_detail`. Integrators need the reason to fix their call, and these
// reasons are written for developers and hold no secrets, so we promote them
// to `error_description`. Server errors are never touched.
import type Provider from 'oidc-provider';

const EVENTS = ['grant.error', 'introspection.error', 'revocation.error'] as const;

export function exposeErrorDetails(provider: Provider): void {
  // Typed loosely: @types/oidc-provider declares each event separately.
  const on = provider.on.bind(provider) as (event: string, fn: (ctx: { body?: unknown; status: number }, err: { error_detail?: unknown }) => void) => void;
  for (const event of EVENTS) {
    on(event, (ctx, err) => {
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      if (ctx.status >= 500 || !body || typeof body !== 'object' || typeof err.error_detail !== 'string') return;
      body.error_description = err.error_detail;
    });
  }
}
