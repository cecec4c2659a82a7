// OAuth Client ID Metadata Documents: a client_id that is an https URL names
// the client's registration, a JSON document at that URL. oidc-provider
// implements the draft (features.clientIdMetadataDocument: it fetches through
// the configured `fetch`, checks that the document's client_id is its URL,
// that it carries no secret, caches it per Cache-Control/Expires within
// `cacheDuration` in a bounded LRU, and advertises
// client_id_metadata_document_supported). What we add:
// - which URLs may be fetched at all (CLIENT_ID_METADATA_DOCUMENTS prefixes);
// - the fetch itself, by our SSRF-guarded fetcher (resolved addresses
//   checked and pinned, https only, deadline, size cap, no redirects):
//   src/services/machines/metadata-document-fetch.ts;
// - the self-registered client policy, checked where every client's
//   metadata is built (src/oidc/self-registered-clients.ts).
import type { Configuration } from 'oidc-provider';
import type { Config } from '../config/env.ts';
import type { Logger } from '../logger.ts';
import type { MetadataDocumentFetcher } from '../services/machines/metadata-document-fetch.ts';

/** The library's name for the document in fetchResponseBodyLimits. */
export const METADATA_DOCUMENT_PURPOSE = 'client_id metadata document';

/** The host a metadata-document client's id names (what a person is shown), or undefined for any other client. */
export function metadataDocumentHost(clientId: string): string | undefined {
  if (!clientId.startsWith('https://')) return undefined;
  try {
    return new URL(clientId).host;
  } catch {
    return undefined;
  }
}

/** Whether a client_id URL may be fetched: on, and under an allowed prefix (none listed: any https URL). */
export function metadataDocumentAllowed(prefixes: readonly string[] | undefined, clientId: string): boolean {
  if (!prefixes) return false;
  return prefixes.length === 0 || prefixes.some((p) => clientId.startsWith(p));
}

export function metadataDocumentFeature(config: Config) {
  const prefixes = config.selfRegistered.metadataDocuments;
  return {
    enabled: prefixes !== undefined,
    ack: 'draft-02',
    async allowFetch(_ctx: unknown, clientId: string) {
      return metadataDocumentAllowed(prefixes, clientId);
    },
    // The policy is checked where the client's metadata is built (extraClientMetadata.validator).
    async allowClient() {
      return true;
    },
    // Reused for at least a minute whatever the document says (a request per
    // authorization would make every sign-in a fetch), at most a day.
    cacheDuration: { min: 60, max: 86_400 },
  };
}

type FetchOptions = RequestInit & { dispatcher?: unknown };

/**
 * oidc-provider's `fetch`: the metadata document (the library's only GET
 * with `redirect: 'manual'`) goes through our guarded fetcher; everything
 * else (logout tokens, jwks_uri) through the library's own SSRF-protected
 * dispatcher, which ALLOW_PRIVATE_NETWORK_FETCH turns off.
 */
export function buildProviderFetch(config: Config, fetchDocument: MetadataDocumentFetcher, log: Logger): NonNullable<Configuration['fetch']> {
  return async (url: string | URL | Request, options?: FetchOptions) => {
    const href = typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;
    if ((options?.method ?? 'GET') === 'GET' && options?.redirect === 'manual') {
      let doc: Awaited<ReturnType<MetadataDocumentFetcher>>;
      try {
        doc = await fetchDocument(href, options.signal ?? undefined);
      } catch (err) {
        // The library answers "client_id metadata document fetch failed"; the reason is for the operator's log.
        log.warn({ clientId: href, reason: (err as Error).message }, 'client metadata document refused');
        throw err;
      }
      if (doc.status !== 200) log.warn({ clientId: href, status: doc.status }, 'client metadata document refused');
      return new Response(doc.status === 204 || doc.status === 304 ? null : new Uint8Array(doc.body), { status: doc.status, headers: doc.headers });
    }
    return globalThis.fetch(url, config.allowPrivateNetworkFetch ? ({ ...options, dispatcher: undefined } as RequestInit) : options);
  };
}
