// A real HTTPS server on 127.0.0.1 with a certificate made for this run
// (openssl, self-signed, for localhost, 127.0.0.1 and the names a test
// resolves itself): where client metadata documents live in the tests.
// Latchkey trusts it only through CLIENT_ID_METADATA_DOCUMENTS_CA_FILE (or a
// fetcher's extraCa), never through a process-wide setting.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServedDocument {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: unknown;
  /** Never answer (a stalled server). */
  stall?: boolean;
}

export interface DocumentServer {
  /** `https://localhost:<port>` */
  origin: string;
  port: number;
  /** PEM file of the certificate (it is its own authority). */
  caFile: string;
  caPem: string;
  serve(path: string, doc: ServedDocument | ((req: IncomingMessage) => ServedDocument)): void;
  /** How many requests reached `path`. */
  hits(path: string): number;
  /** Handle other requests (an MCP server on the same TLS listener, say). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startDocumentServer(extraNames: string[] = []): Promise<DocumentServer> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const san = ['DNS:localhost', 'IP:127.0.0.1', ...extraNames.map((n) => `DNS:${n}`)].join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${san}`,
    ],
    { stdio: 'ignore' },
  );
  const docs = new Map<string, ServedDocument | ((req: IncomingMessage) => ServedDocument)>();
  const counts = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const state: Partial<DocumentServer> = {};
  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const entry = docs.get(path);
    if (!entry) {
      if (state.fallback) return state.fallback(req, res);
      res.writeHead(404).end();
      return;
    }
    const doc = typeof entry === 'function' ? entry(req) : entry;
    if (doc.stall) {
      stalled.add(res);
      return;
    }
    const body = typeof doc.body === 'string' || Buffer.isBuffer(doc.body) ? doc.body : JSON.stringify(doc.body ?? {});
    res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    origin: `https://localhost:${port}`,
    port,
    caFile: cert,
    caPem: readFileSync(cert, 'utf8'),
    serve: (path: string, doc: ServedDocument | ((req: IncomingMessage) => ServedDocument)) => void docs.set(path, doc),
    hits: (path: string) => counts.get(path) ?? 0,
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  }) as DocumentServer;
}
