// OpenID Connect Back-Channel Logout 1.0. oidc-provider mints and posts the
// logout token (Client#backchannelLogout) but awaits the post inside the
// person's logout request, once. Here every post leaves the request path at
// once and is retried with backoff; each failure is logged and audited, and
// the person's logout never waits for an app. Sessions ended outside the
// provider (sign out everywhere, an operator, a password reset, disabling
// the person: src/services/people/session-endings.ts) reach the same sender.
//
// Deliveries live in this process: a server that stops drops the retries it
// still owed, and a session ended by the CLI (another process) tells no app.
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.ts';
import type { AuditService } from '../services/admin/audit.ts';
import type { EndedSignIn } from '../services/people/session-endings.ts';

interface LogoutClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid?: string): Promise<void>;
}

/** Waits before the 2nd, 3rd, … post of a logout token: about 13 minutes in all. */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

export interface BackchannelSender {
  /** Sends this provider instance's logout tokens off the request path (each rebuild of the live provider). */
  install(provider: Provider): void;
  /** Tells the apps of sessions that ended outside the provider. */
  sessionsEnded(provider: Provider, ended: EndedSignIn[]): void;
}

export function createBackchannelSender(deps: { log: Logger; audit: Pick<AuditService, 'record'>; retryDelaysMs?: number[] }): BackchannelSender {
  const delays = deps.retryDelaysMs ?? RETRY_DELAYS_MS;
  const posts = new WeakMap<Provider, LogoutClient['backchannelLogout']>();

  function deliver(post: LogoutClient['backchannelLogout'], client: LogoutClient, sub: string, sid: string | undefined, attempt: number): void {
    post.call(client, sub, sid).then(
      () => deps.log.info({ clientId: client.clientId, attempt: attempt + 1 }, 'back-channel logout delivered'),
      (err: Error) => {
        const delay = delays[attempt];
        // The error names the app's status or the network failure; never the token.
        const detail = { attempt: attempt + 1, error: err.message, given_up: delay === undefined };
        deps.log.warn({ clientId: client.clientId, ...detail }, 'back-channel logout failed');
        deps.audit
          .record('backchannel_logout_failed', { clientId: client.clientId, userId: sub }, detail)
          .catch((e: Error) => deps.log.error({ err: e.message }, 'could not audit a back-channel logout failure'));
        if (delay !== undefined) setTimeout(() => deliver(post, client, sub, sid, attempt + 1), delay).unref();
      },
    );
  }

  return {
    install(provider) {
      const proto = provider.Client.prototype as unknown as LogoutClient;
      const post = proto.backchannelLogout;
      posts.set(provider, post);
      proto.backchannelLogout = function (this: LogoutClient, sub: string, sid?: string) {
        deliver(post, this, sub, sid, 0);
        return Promise.resolve();
      };
    },
    sessionsEnded(provider, ended) {
      const post = posts.get(provider);
      if (!post) return;
      void (async () => {
        for (const { accountId, clientId, sid } of ended) {
          try {
            const client = (await provider.Client.find(clientId)) as unknown as LogoutClient | undefined;
            if (client?.backchannelLogoutUri) deliver(post, client, accountId, sid, 0);
          } catch (err) {
            deps.log.warn({ clientId, err: (err as Error).message }, 'back-channel logout: app not loadable');
          }
        }
      })();
    },
  };
}
