// The only door from our pages into oidc-provider's interaction machinery:
// read the pending interaction, finish it with a login, a consent or an error.
import type Provider from 'oidc-provider';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from 'oidc-provider';
import { InteractionGone } from '../errors.ts';
import { requiresSecondFactor } from './acr.ts';
import { metadataDocumentHost } from './client-metadata-documents.ts';
import { ACCOUNT_CLIENT_ID } from './account-session.ts';

/**
 * The app a person is signing in to, as the pages show it: its name, the
 * host it is at, its logo and links (OIDC client metadata). The host is its
 * client_id's when that is an https URL (a client ID metadata document,
 * whose client_uri the app writes itself and could point anywhere), else the
 * one the operator registered as its home page (client_uri), else the host
 * of the redirect URI this request came back to — an address the app
 * cannot fake, as every redirect URI is registered and matched exactly.
 */
export interface AppIdentity {
  name: string;
  host: string | undefined;
  logoUri: string | undefined;
  clientUri: string | undefined;
  policyUri: string | undefined;
  tosUri: string | undefined;
  /** Latchkey's own account page (no app to go back to, and nothing to show of it). */
  own: boolean;
}

export interface PendingInteraction {
  uid: string;
  prompt: 'login' | 'consent' | string;
  reasons: string[];
  clientId: string;
  clientName: string;
  /** A device (RFC 8628) asks: always approved by hand, and the approval lists everything it asks for. */
  deviceFlow: boolean;
  /** Every scope the request asks for (what a device's approval lists). */
  requestedScopes: string[];
  /** The app as the pages show it (its host is undefined for a device that registered no home page). */
  app: AppIdentity;
  /** The app's `ui_locales`, most wanted first. */
  uiLocales: string[];
  /** Set when a person is already signed in (consent, or a forced re-login). */
  accountId?: string;
  /** Scopes the person has not yet granted this client. */
  missingScopes: string[];
  /** Resource-server scopes the person has not yet granted, by resource. */
  missingResourceScopes: Record<string, string[]>;
  loginHint?: string;
  /** The client or the request (acr_values) asks for a second factor. */
  secondFactorRequired: boolean;
}

export interface HttpPair {
  req: IncomingMessage;
  res: ServerResponse;
}

const hostOf = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
};

/** An image or link the page may show: https (or http on loopback, for development). */
const showable = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return url.href;
    if (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return url.href;
  } catch {
    // not a URL: not shown
  }
  return undefined;
};

export function appIdentity(
  client: Pick<Provider['Client']['prototype'], 'clientId' | 'clientName' | 'clientUri' | 'logoUri' | 'policyUri' | 'tosUri'>,
  redirectUri: unknown,
): AppIdentity {
  const own = client.clientId === ACCOUNT_CLIENT_ID;
  return {
    name: client.clientName ?? client.clientId,
    host: own ? undefined : (metadataDocumentHost(client.clientId) ?? hostOf(client.clientUri) ?? hostOf(redirectUri)),
    logoUri: showable(client.logoUri),
    clientUri: showable(client.clientUri),
    policyUri: showable(client.policyUri),
    tosUri: showable(client.tosUri),
    own,
  };
}

export function createInteractionApi(getProvider: () => Provider) {
  async function load({ req, res }: HttpPair) {
    try {
      return await getProvider().interactionDetails(req, res);
    } catch (err) {
      if (err instanceof errors.SessionNotFound || err instanceof errors.InvalidRequest) throw new InteractionGone((err as Error).message);
      throw err;
    }
  }

  return {
    async details(http: HttpPair, uid: string): Promise<PendingInteraction> {
      const it = await load(http);
      if (it.uid !== uid) throw new InteractionGone('interaction mismatch');
      const client = await getProvider().Client.find(String(it.params.client_id));
      if (!client) throw new InteractionGone('client gone');
      const details = it.prompt.details as {
        missingOIDCScope?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      return {
        uid: it.uid,
        prompt: it.prompt.name,
        reasons: it.prompt.reasons,
        clientId: client.clientId,
        clientName: client.clientName ?? client.clientId,
        deviceFlow: typeof (it as { deviceCode?: unknown }).deviceCode === 'string',
        requestedScopes: typeof it.params.scope === 'string' ? it.params.scope.split(' ').filter(Boolean) : [],
        app: appIdentity(client, it.params.redirect_uri),
        uiLocales: typeof it.params.ui_locales === 'string' ? it.params.ui_locales.split(' ').filter(Boolean).slice(0, 20) : [],
        accountId: it.session?.accountId,
        missingScopes: details.missingOIDCScope ?? [],
        missingResourceScopes: details.missingResourceScopes ?? {},
        loginHint: typeof it.params.login_hint === 'string' ? it.params.login_hint : undefined,
        secondFactorRequired: requiresSecondFactor(client.metadata(), it.params.acr_values),
      };
    },

    /** A sign-in in progress with this id exists (it may be continued in the browser that started it). */
    async exists(uid: string): Promise<boolean> {
      return Boolean(await getProvider().Interaction.find(uid));
    },

    /** Finishes the login prompt; returns where to send the browser. */
    async finishLogin(http: HttpPair, login: { accountId: string; amr: string[]; acr: string }): Promise<string> {
      await load(http);
      // `create` resolves a prompt=create request too: the person signed up (or
      // chose to sign in with an account they had) and has now signed in.
      return getProvider().interactionResult(http.req, http.res, { login: { ...login, remember: true }, create: {} }, { mergeWithLastSubmission: false });
    },

    /** Grants what the consent prompt asked for and remembers it. */
    async finishConsent(http: HttpPair): Promise<string> {
      const it = await load(http);
      const provider = getProvider();
      if (it.prompt.name !== 'consent' || !it.session) throw new InteractionGone('no consent pending');
      const details = it.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      const grant = it.grantId
        ? await provider.Grant.find(it.grantId)
        : new provider.Grant({ accountId: it.session.accountId, clientId: String(it.params.client_id) });
      if (!grant) throw new InteractionGone('grant gone');
      if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
      if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionResult(http.req, http.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    },

    /** Ends the interaction with an error sent to the client (e.g. access_denied). */
    async abort(http: HttpPair, error = 'access_denied', description = 'the person denied the request'): Promise<string> {
      await load(http);
      return getProvider().interactionResult(http.req, http.res, { error, error_description: description }, { mergeWithLastSubmission: false });
    },
  };
}

export type InteractionApi = ReturnType<typeof createInteractionApi>;
