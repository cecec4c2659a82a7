// What the app forms (new, edit) send, read once for both: the fields the
// clients service checks (src/services/machines/clients.ts). A refusal of the
// service comes back beside the form with its reason.
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
}

const text = (ctx: Context, name: string) => String((ctx.request.body as Record<string, unknown>)[name] ?? '');

export function appFormValues(ctx: Context): AppFormValues {
  return {
    name: text(ctx, 'name').trim(),
    redirect_uris: text(ctx, 'redirect_uris'),
    scope: text(ctx, 'scope').trim(),
    api_scope: text(ctx, 'api_scope').trim(),
    public: text(ctx, 'public') === 'on',
  };
}

/** The service's input: one redirect URI a line; an empty API scope clears it. */
export function appInput(v: AppFormValues): Omit<CreateClientInput, 'public'> {
  return {
    name: v.name,
    redirectUris: v.redirect_uris.split(/\s+/).filter(Boolean),
    scope: v.scope || undefined,
    apiScope: v.api_scope,
  };
}

/** A refusal of the service as the form's error (its reason names what to fix); anything else is thrown on. */
export function refusal(err: unknown): { errors: FieldError[]; status: number } {
  if (!(err instanceof AppError) || (err.code !== 'invalid_input' && err.code !== 'conflict')) throw err;
  return { errors: [{ message: msg('console.apps.refused', { reason: err.message }) }], status: err.status };
}
