// OpenID Connect Back-Channel Logout 1.0. oidc-provider mints and posts the
// logout token (Client#backchannelLogout) but awaits the post inside the
// person's logout request, once. Here a logout only records what is owed
// (src/services/people/session-endings.ts: a row per app, in the database),
// and the sender delivers it off the request path, retrying with backoff;
// each failure is logged and audited, and the person's logout never waits
// for an app. Sessions ended outside the provider (sign out everywhere, an
// operator, a password reset, disabling the person; the CLI too) owe their
// notices the same way. Every node looks for due notices every POLL_MS and
// at once after a logout of its own, so a retry survives a restart and a
// notice owed by the CLI is sent by whichever server looks first.
import type Provider from 'oidc-provider';
import type { Logger } from '../logger.ts';
import type { AuditService } from '../services/admin/audit.ts';
import type { OwedLogout, SessionEndings } from '../services/people/session-endings.ts';

interface LogoutClient {
  clientId: string;
  backchannelLogoutUri?: string;
  backchannelLogout(sub: string, sid?: string): Promise<void>;
}

/** Waits before the 2nd, 3rd, … post of a logout token: about 13 minutes in all. */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
/** How often a node looks for due notices (those owed by another process, and retries). */
export const POLL_MS = 1_000;
/** A claimed notice is another node's to take again after this (its sender died mid-post). */
const LEASE_MS = 60_000;
const BATCH = 20;

export interface BackchannelSender {
  /** Makes this provider instance's logouts owe their notices (each rebuild of the live provider). */
  install(provider: Provider): void;
  /** Starts delivering with the live provider; stop() ends it (server shutdown). */
  start(current: () => Provider): void;
  stop(): void;
}

export function createBackchannelSender(deps: {
  log: Logger;
  audit: Pick<AuditService, 'record'>;
  endings: SessionEndings;
  retryDelaysMs?: number[];
}): BackchannelSender {
  const { endings, log } = deps;
  const delays = deps.retryDelaysMs ?? RETRY_DELAYS_MS;
  const posts = new WeakMap<Provider, LogoutClient['backchannelLogout']>();
  let current: (() => Provider) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;

  async function deliver(provider: Provider, post: LogoutClient['backchannelLogout'], owed: OwedLogout): Promise<void> {
    let client: LogoutClient | undefined;
    try {
      client = (await provider.Client.find(owed.clientId)) as unknown as LogoutClient | undefined;
    } catch (err) {
      log.warn({ clientId: owed.clientId, err: (err as Error).message }, 'back-channel logout: app not loadable');
    }
    // An app deleted, or no longer asking to be told, is owed nothing.
    if (!client?.backchannelLogoutUri) return endings.settle(owed.id);
    try {
      await post.call(client, owed.accountId, owed.sid);
      log.info({ clientId: owed.clientId, attempt: owed.attempts + 1 }, 'back-channel logout delivered');
      await endings.settle(owed.id);
    } catch (err) {
      const delay = delays[owed.attempts];
      // The error names the app's status or the network failure; never the token.
      const detail = { attempt: owed.attempts + 1, error: (err as Error).message, given_up: delay === undefined };
      log.warn({ clientId: owed.clientId, ...detail }, 'back-channel logout failed');
      await deps.audit
        .record('backchannel_logout_failed', { clientId: owed.clientId, userId: owed.accountId }, detail)
        .catch((e: Error) => log.error({ err: e.message }, 'could not audit a back-channel logout failure'));
      await (delay === undefined ? endings.settle(owed.id) : endings.retry(owed.id, owed.attempts + 1, delay));
    }
  }

  /** Delivers every due notice; a call while one runs makes it look again when done. */
  async function deliverDue(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const provider = current?.();
        const post = provider && posts.get(provider);
        if (!provider || !post) return;
        const owed = await endings.claimDue(BATCH, LEASE_MS);
        // Posts run side by side: an app that hangs holds only its own notice.
        for (const o of owed) void deliver(provider, post, o).catch((err: Error) => log.warn({ err: err.message }, 'back-channel logout bookkeeping failed'));
        if (owed.length === BATCH) again = true;
      } while (again);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'back-channel logout: could not read the notices owed');
    } finally {
      running = false;
    }
  }
  const wake = () => void deliverDue();

  return {
    install(provider) {
      const proto = provider.Client.prototype as unknown as LogoutClient;
      posts.set(provider, proto.backchannelLogout);
      proto.backchannelLogout = async function (this: LogoutClient, sub: string, sid?: string) {
        await endings.owe([{ accountId: sub, clientId: this.clientId, sid }]);
        wake();
      };
    },
    start(live) {
      current = live;
      endings.listen(wake);
      timer = setInterval(wake, POLL_MS);
      timer.unref();
      wake();
    },
    stop() {
      clearInterval(timer);
      current = undefined;
    },
  };
}
