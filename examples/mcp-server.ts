// An MCP server protected by Latchkey (docs/apps.md, "MCP servers and their
// clients"): one tool, Streamable HTTP, stateless. It serves its RFC 9728
// protected-resource metadata, answers a request without a valid token with
// `401` and `WWW-Authenticate: Bearer resource_metadata=…`, and accepts only
// JWT access tokens Latchkey issued for its own identifier (the audience) with
// its scope. The MCP test suite runs this very file.
//
//   npx tsx examples/mcp-server.ts
//   ISSUER   Latchkey's issuer (default http://localhost:3000)
//   PORT     where this server listens (default 8090); its resource is http://127.0.0.1:$PORT/mcp
//   SCOPE    the scope a token must carry (default notes.read)
//
// Register it first: npm run --silent admin -- resource create --identifier http://127.0.0.1:8090/mcp --scope notes.read
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface McpServerOptions {
  issuer: string;
  port: number;
  scope: string;
  /** Names the server in its tool's answers. */
  name?: string;
}

export async function startMcpServer({ issuer, port, scope, name = 'notes' }: McpServerOptions) {
  const resource = `http://127.0.0.1:${port}/mcp`;
  // RFC 9728 §3.1: the well-known prefix, then the resource's path.
  const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));

  const unauthorized = (res: ServerResponse, error?: string) => {
    const params = [`resource_metadata="${metadataUrl}"`, `scope="${scope}"`, ...(error ? [`error="${error}"`] : [])];
    res.writeHead(401, { 'WWW-Authenticate': `Bearer ${params.join(', ')}`, 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: error ?? 'unauthorized' }));
  };

  const server = createServer(async (req: IncomingMessage & { auth?: AuthInfo }, res) => {
    const path = new URL(req.url ?? '/', resource).pathname;
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      const metadata = { resource, authorization_servers: [issuer], scopes_supported: [scope], bearer_methods_supported: ['header'] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata));
      return;
    }
    if (path !== '/mcp') return void res.writeHead(404).end();
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return unauthorized(res);
    try {
      // The audience is this server: a token Latchkey issued for another MCP server is refused here.
      const { payload } = await jwtVerify(token, jwks, { issuer, audience: resource });
      const scopes = String(payload.scope ?? '').split(' ');
      if (!scopes.includes(scope)) return unauthorized(res, 'insufficient_scope');
      req.auth = { token, clientId: String(payload.client_id), scopes, extra: { sub: payload.sub } };
    } catch {
      return unauthorized(res, 'invalid_token');
    }
    // Stateless: one MCP server and transport per request.
    const mcp = new McpServer({ name, version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Who the token was issued to' }, async (extra) => ({
      content: [{ type: 'text', text: `${name}:${String(extra.authInfo?.extra?.sub)}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { resource, metadataUrl, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { resource, metadataUrl } = await startMcpServer({
    issuer: process.env.ISSUER ?? 'http://localhost:3000',
    port: Number(process.env.PORT ?? 8090),
    scope: process.env.SCOPE ?? 'notes.read',
  });
  console.log(`MCP server at ${resource} (metadata: ${metadataUrl})`);
}
