// Fetching a client's metadata document (OAuth Client ID Metadata Documents):
// a request Latchkey makes to a URL anyone can name in an authorization
// request, so it is treated as the server-side request forgery surface it is.
//
// - https only, a short deadline, a size cap, no redirects followed (a 3xx is
//   an answer like any other, and refused as not 200);
// - the host is resolved once, EVERY address it resolves to is checked, and
//   the connection is made to the checked address (the socket's lookup is
//   answered with it): a name that resolves to a public address for the check
//   and a private one for the connection (DNS rebinding) gets nowhere;
// - loopback, private, link-local, multicast and other special-use addresses
//   are refused unless the operator allows them (development and tests).
//
// node:https, node:tls and node:dns/promises are taken at the first fetch,
// not imported: a server that never fetches a document does not hold them
// (about 1 MB of a start, bench/README.md, "Stop 42").
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Addresses a document is never fetched from (IANA special-use registries), unless private addresses are allowed. */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // NAT64 addresses hide an IPv4 address: refused whole (IPv4-mapped ones below).
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  SPECIAL_USE.addSubnet(net, prefix, 'ipv6');

export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  // IPv4-mapped (::ffff:a.b.c.d) hides an IPv4 address: refused whole. Not a
  // BlockList rule: BlockList matches every IPv4 address against ::ffff:0:0/96.
  if (family === 6 && /^(0{0,4}:){0,5}:?ffff:/i.test(address.replace(/^::/, ':'))) return true;
  return SPECIAL_USE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export interface MetadataDocumentFetchOptions {
  /** Loopback and private addresses allowed (CLIENT_ID_METADATA_DOCUMENTS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** PEM of certificate authorities trusted beside the system's (CLIENT_ID_METADATA_DOCUMENTS_CA_FILE). */
  extraCa?: string;
  /** Largest body accepted, bytes. */
  maxBytes: number;
  /** The whole request's deadline, milliseconds. */
  timeoutMs: number;
  /** Name resolution; default the system's (tests give a resolver that lies). */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
}

export interface FetchedDocument {
  status: number;
  /** Lower-case names; only those a cache decision or a JSON parse needs. */
  headers: Record<string, string>;
  body: Buffer;
}

/** Why a document could not be fetched: said to the app, so it names the rule, never an internal address's content. */
export class MetadataFetchRefused extends Error {}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  process.getBuiltinModule('node:dns/promises').lookup(hostname, { all: true, verbatim: true });

/**
 * What HTTP caching allows (RFC 9111): `no-store` or `no-cache` mean "not
 * reused", said as max-age=0; the caller applies its own floor and ceiling.
 */
function cacheHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  const cacheControl = [headers['cache-control']].flat().filter(Boolean).join(', ');
  if (/(^|,)\s*(no-store|no-cache|private)\b/i.test(cacheControl)) out['cache-control'] = 'max-age=0';
  else if (cacheControl) out['cache-control'] = cacheControl;
  const expires = headers.expires;
  if (typeof expires === 'string' && !out['cache-control']) out.expires = expires;
  const type = headers['content-type'];
  if (typeof type === 'string') out['content-type'] = type;
  return out;
}

export function createMetadataDocumentFetcher(options: MetadataDocumentFetchOptions) {
  const resolve = options.resolve ?? systemResolve;
  // `ca` replaces the system's roots: keep them and add the operator's.
  const ca = options.extraCa ? [...process.getBuiltinModule('node:tls').rootCertificates, options.extraCa] : undefined;

  /** The one address the connection may use: every address of the name checked first. */
  async function vettedAddress(hostname: string): Promise<ResolvedAddress> {
    const literal = hostname.replace(/^\[|\]$/g, '');
    const family = isIP(literal);
    let addresses: ResolvedAddress[];
    if (family) addresses = [{ address: literal, family }];
    else {
      try {
        addresses = await resolve(hostname);
      } catch {
        throw new MetadataFetchRefused(`the host ${hostname} could not be resolved`);
      }
    }
    if (!addresses.length) throw new MetadataFetchRefused(`the host ${hostname} could not be resolved`);
    if (!options.allowPrivate && addresses.some((a) => isSpecialUseAddress(a.address))) {
      throw new MetadataFetchRefused(
        `the host ${hostname} resolves to a loopback, private or special-use address; metadata documents are fetched from public addresses only`,
      );
    }
    return addresses[0]!;
  }

  return async function fetchDocument(url: string, signal?: AbortSignal): Promise<FetchedDocument> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new MetadataFetchRefused('the client_id is not a URL');
    }
    if (target.protocol !== 'https:') throw new MetadataFetchRefused('metadata documents are fetched over https only');
    const pinned = await vettedAddress(target.hostname);
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    // The connection goes to the address checked above, whatever the name resolves to by then.
    const lookup: LookupFunction = (_host, opts, callback) => {
      if ((opts as { all?: boolean }).all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
      else callback(null, pinned.address, pinned.family);
    };

    return new Promise<FetchedDocument>((resolveFetch, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err instanceof MetadataFetchRefused ? err : new MetadataFetchRefused(`the metadata document could not be fetched (${err.message})`));
      };
      const req = process.getBuiltinModule('node:https').request(
        {
          host: hostname,
          port: target.port || 443,
          path: `${target.pathname}${target.search}`,
          method: 'GET',
          headers: { accept: 'application/json', 'user-agent': 'Latchkey (client metadata)', host: target.host },
          agent: false,
          lookup,
          ...(isIP(hostname) ? {} : { servername: hostname }),
          ...(ca ? { ca } : {}),
        },
        (res) => {
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > options.maxBytes) {
            fail(new MetadataFetchRefused(`the metadata document is larger than ${options.maxBytes} bytes`));
            return;
          }
          const chunks: Buffer[] = [];
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > options.maxBytes) fail(new MetadataFetchRefused(`the metadata document is larger than ${options.maxBytes} bytes`));
            else chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolveFetch({ status: res.statusCode ?? 0, headers: cacheHeaders(res.headers), body: Buffer.concat(chunks) });
          });
        },
      );
      const timer = setTimeout(() => fail(new MetadataFetchRefused(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      signal?.addEventListener('abort', () => fail(new MetadataFetchRefused('the fetch was cancelled')), { once: true });
      req.on('error', fail);
      req.end();
    });
  };
}

export type MetadataDocumentFetcher = ReturnType<typeof createMetadataDocumentFetcher>;
