// The device authorization grant (RFC 8628), for CLIs, TVs and anything
// without a browser: oidc-provider's deviceFlow feature, with our pages and
// two additions the library leaves to us.
//
// - User codes are 12 characters of the library's base-20 alphabet (no
//   vowels, no look-alikes), grouped by four: 51.9 bits, typeable, read back
//   case-insensitively (the library upper-cases input and drops spaces and
//   dashes). They are stored as an HMAC (src/oidc/adapter.ts), single-use
//   (the library marks the code in flight once confirmed), and the page that
//   takes them is rate-limited per address (RATE_LIMIT_DEVICE).
// - `slow_down` (RFC 8628 §3.5), which the library does not send: a device
//   polling again within its interval of the last poll is told to slow down.
//   One marker row per pending device code, inserted only if none is live:
//   atomic on every node, and only for codes that exist, so guessed device
//   codes create nothing.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ArtifactStore } from '../db/artifact-store.ts';
import type { Render } from '../middleware/koa-render.ts';
import { hashArtifactId } from '../services/secrets/artifact-ids.ts';
import { msg, type Message } from '../ui/catalogue.ts';
import { appIdentity } from './interactions.ts';

export const USER_CODE_CHARSET = 'base-20';
/** 12 characters of 20: 20^12 ≈ 2^51.9 codes. */
export const USER_CODE_MASK = '****-****-****';

/** Which of the page's messages (device.problem.* in the catalogue) an error from the library is. */
function problemOf(err: unknown, out: { error?: string } | undefined): Message | undefined {
  if (!err && !out) return undefined;
  switch ((err as { name?: string } | undefined)?.name) {
    case 'NotFoundError':
      return msg('device.problem.notFound');
    case 'ExpiredError':
      return msg('device.problem.expired');
    case 'AlreadyUsedError':
      return msg('device.problem.used');
    case 'NoCodeError':
      return msg('device.problem.missing');
    case 'AbortedError':
      return msg('device.problem.aborted');
    default:
      // A missing or stale xsrf (the form outlived its session state) is invalid_request.
      return msg(out?.error === 'invalid_request' ? 'device.problem.formExpired' : 'device.problem.other');
  }
}

/** The library's own form carries the session-bound xsrf value; our page posts it back. */
const xsrfOf = (form: string) => /name="xsrf" value="([^"]*)"/.exec(form)?.[1] ?? '';

export interface DeviceFlowDeps {
  render: Render;
  codeTtl: number;
  /** What each scope means, in a person's words (the consent page's descriptions). */
  describeScopes(scopes: string[], resources?: Record<string, string[]>): Message[];
}

export function deviceFlowFeature({ render, describeScopes }: DeviceFlowDeps): NonNullable<NonNullable<Configuration['features']>['deviceFlow']> {
  return {
    enabled: true,
    charset: USER_CODE_CHARSET,
    mask: USER_CODE_MASK,
    async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, out?: { error?: string }, err?: Error & { userCode?: string }) {
      const problem = problemOf(err, out);
      const status = problem && problem.key !== 'device.problem.aborted' ? 400 : undefined;
      render(ctx, 'device', { xsrf: xsrfOf(form), userCode: err?.userCode ?? '', problem }, status);
    },
    async userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client, deviceInfo: { ip?: string; ua?: string } | undefined, userCode: string) {
      const params = (ctx.oidc.entities.DeviceCode as unknown as { params?: { scope?: string } } | undefined)?.params ?? {};
      const scopes = String(params.scope ?? '')
        .split(' ')
        .filter(Boolean);
      // The app as the sign-in pages show it: its name, logo and links, and the
      // host of its metadata document or registered home page (a device has no redirect URI).
      const app = appIdentity(client, undefined);
      render(ctx, 'device-confirm', {
        xsrf: xsrfOf(form),
        userCode,
        app,
        imageOrigins: app.logoUri ? [new URL(app.logoUri).origin] : [],
        scopes: describeScopes(scopes),
        deviceIp: deviceInfo?.ip,
        deviceUserAgent: deviceInfo?.ua,
      });
    },
    async successSource(ctx: KoaContextWithOIDC) {
      render(ctx, 'device-done', { appName: ctx.oidc.client?.clientName });
    },
  } as NonNullable<NonNullable<Configuration['features']>['deviceFlow']>;
}

interface DeviceCodeLike {
  accountId?: string;
  error?: string;
  isExpired?: boolean;
}

/**
 * `slow_down` for a pending device code polled again sooner than
 * `intervalSeconds` after its last poll (with a fifth of the interval to
 * spare for network jitter), and the `interval` in every device
 * authorization response.
 */
export function useDevicePolling(provider: Provider, deps: { artifacts: ArtifactStore; idKey: Buffer; intervalSeconds: number; now: () => number }): void {
  const model = provider.DeviceCode as unknown as { find(value: string, opts?: object): Promise<DeviceCodeLike | undefined> };
  const find = model.find.bind(model);
  const markerMs = deps.intervalSeconds * 800;
  model.find = async (value, opts) => {
    const code = await find(value, opts);
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (code && ctx?.oidc?.route === 'token' && !code.accountId && !code.error && !code.isExpired) {
      const now = deps.now();
      const first = await deps.artifacts.insertOnce('DevicePoll', hashArtifactId(deps.idKey, value), new Date(now + markerMs), new Date(now));
      if (!first) throw new errors.SlowDown(`poll at most every ${deps.intervalSeconds} s; wait 5 s more between polls from now on`);
    }
    return code;
  };
  provider.on('device_authorization.success', (_ctx: unknown, body: Record<string, unknown>) => {
    body.interval = deps.intervalSeconds;
  });
}
