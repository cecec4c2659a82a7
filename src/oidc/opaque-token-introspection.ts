// RFC 7662 introspection of one of the provider's own opaque tokens, asked by
// a client that HTTP Basic alone authenticates (src/oidc/basic-client-auth.ts):
// answered without the provider's endpoint pipeline (its context, parameter
// assembly, client-authentication chain, duplicate check, and the structured-
// token check that builds and throws two errors per opaque token), which cost
// more CPU than the answer itself.
//
// It is the provider's own renderTokenResponse (oidc-provider's
// lib/actions/introspection.js, and findToken in lib/helpers/token_find.js)
// restated with the provider's own parts: its token models' find (expiry,
// consumption, session binding) and its Grant, and the rule its configured
// allowedPolicy applies (mayIntrospect, src/oidc/introspection-policy.ts).
// What this configuration never produces is left to the provider, not
// restated: pairwise subjects, rich authorization requests, sender-
// constrained tokens (`cnf`). For those `undefined` is returned, once the
// caller is known to be allowed to see the token (to any other caller every
// token is answered here alike), and the request goes through the provider
// unchanged, as any request this path does not take.
// test/oidc/opaque-token-introspection.test.ts asks both ways about tokens in
// every state and requires the same answer; it also pins the two library
// files restated here, so that an upgrade that changes them is read again.
import type Provider from 'oidc-provider';
import { mayIntrospect, type ClientLike as PolicyClient } from './introspection-policy.ts';

type ClientLike = PolicyClient & { subjectType?: string };

interface FoundToken {
  readonly kind: string;
  readonly isValid: boolean;
  clientId?: string;
  accountId?: string;
  grantId?: string;
  jti: string;
  exp?: number;
  iat: number;
  sid?: string;
  aud?: string | string[];
  scope?: string;
  extra?: Record<string, unknown>;
  rar?: unknown;
  tokenType?: string;
  isSenderConstrained(): boolean;
}

type Finder = { find(value: string): Promise<unknown> };

/**
 * The provider's answer for `token` to `client`, or undefined when the
 * provider must answer (a case this does not restate). An answer never
 * depends on which of the three kinds the caller hinted: ids are unique
 * across them, and the provider's hint only orders its lookups.
 */
export async function opaqueTokenAnswer(provider: Provider, client: ClientLike, token: string): Promise<Record<string, unknown> | undefined> {
  const models = provider as unknown as { AccessToken: Finder; ClientCredentials: Finder; RefreshToken: Finder };
  // One statement for the three (src/oidc/adapter.ts): the lookups start in the same turn.
  const found = await Promise.all([models.AccessToken.find(token), models.ClientCredentials.find(token), models.RefreshToken.find(token)]);
  const t = found.find(Boolean) as FoundToken | undefined;
  const inactive = { active: false };
  if (!t?.isValid) return inactive;
  if (t.grantId) {
    const grant = await provider.Grant.find(t.grantId, { ignoreExpiration: true });
    if (!grant || grant.isExpired || grant.clientId !== t.clientId || grant.accountId !== t.accountId) return inactive;
  }
  if (!mayIntrospect(client, t)) return inactive;
  if (t.rar || t.isSenderConstrained()) return undefined;
  if (t.accountId) {
    const owner = t.clientId === client.clientId ? client : ((await provider.Client.find(t.clientId!)) as ClientLike | undefined);
    if (owner?.subjectType !== 'public') return undefined;
  }
  // Built as the provider builds it, so that keys come in its order and a claim of `extra` named `sub` wins.
  const answer: Record<string, unknown> = { active: true };
  if (t.accountId) answer.sub = t.accountId;
  return Object.assign(answer, {
    ...t.extra,
    active: true,
    client_id: t.clientId,
    exp: t.exp,
    iat: t.iat,
    sid: t.sid,
    iss: provider.issuer,
    jti: t.jti !== token ? t.jti : undefined,
    aud: t.aud,
    scope: t.scope || undefined,
    token_type: t.kind !== 'RefreshToken' ? t.tokenType : undefined,
  });
}
