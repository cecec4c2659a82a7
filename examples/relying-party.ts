// The quick start's app: a tiny relying party on http://localhost:8080 that
// signs a person in with Latchkey (authorization code + PKCE, through
// openid-client) and shows the ID token's claims. `npm run example` runs it
// with the client that `client create … --json > example-client.json`
// registered (README, "Quick start").
//
//   ISSUER          Latchkey's issuer (default http://localhost:3000)
//   CLIENT_FILE     the JSON `client create --json` printed (default example-client.json)
//   PORT            where this app listens (default 8080; the redirect URI must match)
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import * as oidc from 'openid-client';

export interface ExampleOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  port: number;
  /** 127.0.0.1 unless told otherwise: this is a development tool. */
  host?: string;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) => `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Example app</title><body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">${body}</body></html>`;

export async function startExampleApp(opts: ExampleOptions): Promise<{ server: Server; url: string }> {
  const issuer = new URL(opts.issuer);
  // openid-client speaks only HTTPS unless told otherwise: the development
  // server is plain http on localhost, production is https (and needs none of this).
  const config = await oidc.discovery(
    issuer,
    opts.clientId,
    undefined,
    opts.clientSecret ? oidc.ClientSecretBasic(opts.clientSecret) : oidc.None(),
    issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
  );
  // One sign-in at a time is enough for a demonstration: the state and PKCE verifier in memory, keyed by state.
  const pending = new Map<string, string>();
  const server = createServer(async (req, res) => {
    const here = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const redirectUri = `${here.origin}/callback`;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    try {
      if (here.pathname === '/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        pending.set(state, verifier);
        const to = oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid email profile',
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
        });
        res.writeHead(302, { Location: to.href }).end();
        return;
      }
      if (here.pathname === '/callback') {
        const state = here.searchParams.get('state') ?? '';
        const verifier = pending.get(state);
        pending.delete(state);
        if (!verifier) {
          res.writeHead(400).end(page('<h1>Unknown sign-in</h1><p><a href="/login">Sign in again</a></p>'));
          return;
        }
        const tokens = await oidc.authorizationCodeGrant(config, here, { pkceCodeVerifier: verifier, expectedState: state });
        const claims = tokens.claims()!;
        res.end(page(`<h1>Signed in as ${escape(String(claims.name ?? claims.email ?? claims.sub))}</h1><p>The ID token's claims:</p><pre id="claims">${escape(JSON.stringify(claims, null, 2))}</pre><p><a href="/login">Sign in again</a></p>`));
        return;
      }
      res.end(page(`<h1>Example app</h1><p>It signs you in with ${escape(issuer.origin)}.</p><p><a href="/login">Sign in</a></p>`));
    } catch (err) {
      res.writeHead(500).end(page(`<h1>Sign-in failed</h1><p>${escape(err instanceof Error ? err.message : String(err))}</p><p><a href="/login">Try again</a></p>`));
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://localhost:${port}` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.env.CLIENT_FILE ?? 'example-client.json';
  let client: { client_id: string; client_secret?: string };
  try {
    client = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.error(`example: cannot read ${file}; register the app first:\n  npm run --silent admin -- client create --name "Example app" --redirect-uri http://localhost:8080/callback --json > ${file}`);
    process.exit(1);
  }
  const { url } = await startExampleApp({
    issuer: process.env.ISSUER ?? 'http://localhost:3000',
    clientId: client.client_id,
    clientSecret: client.client_secret,
    port: Number(process.env.PORT ?? 8080),
  });
  console.log(`example app: open ${url} and sign in`);
}
