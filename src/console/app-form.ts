// What the app forms (new, edit) send, read once for both: the fields the
// clients service checks (src/services/machines/clients.ts), as `client
// create` / `client update` take them. A refusal of the service comes back
// beside the form with its reason.
import type { Context } from 'koa';
import { AppError } from '../errors.ts';
import type { FieldError } from '../middleware/koa-render.ts';
import type { CreateClientInput } from '../services/machines/clients.ts';
import { msg } from '../ui/catalogue.ts';

export interface AppFormValues {
  name: string;
  redirect_uris: string;
  scope: string;
  api_scope: string;
  public: boolean;
  /** A registered API the app's API scopes are at when a request names none. */
  default_resource: string;
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string;
  // Flags
  client_credentials: boolean;
  device_flow: boolean;
  require_mfa: boolean;
}

const text = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function appFormValues(ctx: Context): AppFormValues {
  return {
    name: text(ctx, 'name').trim(),
    redirect_uris: text(ctx, 'redirect_uris'),
    scope: text(ctx, 'scope').trim(),
    api_scope: text(ctx, 'api_scope').trim(),
    public: text(ctx, 'public') === 'on',
    default_resource: text(ctx, 'default_resource').trim(),
    post_logout_redirect_uris: text(ctx, 'post_logout_redirect_uris'),
    backchannel_logout_uri: text(ctx, 'backchannel_logout_uri').trim(),
    client_credentials: text(ctx, 'client_credentials') === 'on',
    device_flow: text(ctx, 'device_flow') === 'on',
    require_mfa: text(ctx, 'require_mfa') === 'on',
  };
}

const lines = (v: string) => v.split(/\s+/).filter(Boolean);

/**
 * The service's input: one URI a line; an empty API scope, default API or
 * back-channel logout URI clears it (the form shows every field, so what is
 * left empty or unticked is meant).
 */
export function appInput(v: AppFormValues): Omit<CreateClientInput, 'public'> {
  return {
    name: v.name,
    redirectUris: lines(v.redirect_uris),
    scope: v.scope || undefined,
    apiScope: v.api_scope,
    defaultResource: v.default_resource,
    postLogoutRedirectUris: lines(v.post_logout_redirect_uris),
    backchannelLogoutUri: v.backchannel_logout_uri,
    clientCredentials: v.client_credentials,
    deviceFlow: v.device_flow,
    requireMfa: v.require_mfa,
  };
}

/** A refusal of the service as the form's error (its reason names what to fix); anything else is thrown on. */
export function refusal(err: unknown): { errors: FieldError[]; status: number } {
  if (!(err instanceof AppError) || (err.code !== 'invalid_input' && err.code !== 'conflict')) throw err;
  return { errors: [{ message: msg('console.apps.refused', { reason: err.message }) }], status: err.status };
}
