// Protocol request bodies are read through the stream's events
// (src/middleware/koa-body.ts): a body that arrives in pieces is read to its
// end, one larger than the limit is refused with 413 however it arrives (and
// ends its connection, whose rest is unread), and a client that leaves in
// the middle of its body, or before it is read, leaves nothing waiting.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { readBodyText } from '../../src/middleware/koa-body.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const API = 'https://pieces.example.test';

describe('protocol request bodies', () => {
  let server: TestServer;
  const client = {} as { id: string; secret: string };
  before(async () => {
    server = await startTestServer({ RATE_LIMIT_TOKEN: '' });
    await server.runtime.resources.create({ identifier: API, scope: 'p.read', format: 'opaque' });
    const { client: c, clientSecret } = await server.runtime.clients.create({
      name: 'pieces',
      redirectUris: ['https://p.example.test/cb'],
      clientCredentials: true,
      apiScope: 'p.read',
      tokenEndpointAuthMethod: 'client_secret_post',
    });
    Object.assign(client, { id: c.clientId, secret: clientSecret });
  });
  after(() => server.stop());

  /** POSTs `pieces` to /token one at a time, each after the previous one was sent; `leave` ends the connection after them instead of the body. */
  const postInPieces = (pieces: string[], leave = false) =>
    new Promise<{ status: number; connection?: string; body: Record<string, string> } | 'left'>((resolve, reject) => {
      const length = pieces.reduce((n, p) => n + Buffer.byteLength(p), 0);
      const req = request(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(length) },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: JSON.parse(text) as Record<string, string> }));
      });
      req.on('error', (err) => (leave ? resolve('left') : reject(err)));
      const send = (i: number) => {
        if (i === pieces.length) {
          if (leave) req.destroy();
          return;
        }
        req.write(pieces[i], () => setImmediate(() => send(i + 1)));
      };
      req.flushHeaders();
      send(0);
    });

  const form = () => new URLSearchParams({ grant_type: 'client_credentials', resource: API, client_id: client.id, client_secret: client.secret }).toString();
  const split = (text: string, n: number) =>
    Array.from({ length: n }, (_, i) => text.slice(Math.floor((i * text.length) / n), Math.floor(((i + 1) * text.length) / n)));

  it('a body that arrives in pieces is read to its end', async () => {
    // The secret is at the end: a reader that stopped at a piece would see a client without it.
    const answer = await postInPieces(split(form(), 7));
    assert.notEqual(answer, 'left');
    if (answer === 'left') return;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.ok(answer.body.access_token);
  });

  it('a body over 64 KiB is refused with 413 however it arrives, and the server goes on serving', async () => {
    const large = `${form()}&pad=${'x'.repeat(70 * 1024)}`;
    for (const pieces of [[large], split(large, 9)]) {
      const answer = await postInPieces(pieces);
      assert.notEqual(answer, 'left');
      if (answer === 'left') return;
      assert.equal(answer.status, 413);
      assert.equal(answer.connection, 'close', 'the unread rest of the body would be read as the next request');
      assert.equal(answer.body.error, 'invalid_request');
      assert.match(answer.body.error_description!, /exceeds 64 KiB/);
    }
    const after = await postInPieces([form()]);
    assert.ok(after !== 'left' && after.status === 200);
  });

  it('a client that leaves in the middle of its body leaves the server serving', async () => {
    const text = form();
    const left = await postInPieces([text.slice(0, text.length / 2)], true);
    assert.equal(left, 'left');
    const answers = await Promise.all(Array.from({ length: 4 }, () => postInPieces(split(form(), 3))));
    for (const a of answers) assert.ok(a !== 'left' && a.status === 200, JSON.stringify(a));
  });
});

describe('a body whose client left before it was read', () => {
  it('is refused at once, not awaited for ever', async () => {
    let arrived!: () => void;
    const arriving = new Promise<void>((resolve) => (arrived = resolve));
    let settled!: (outcome: string) => void;
    const outcome = new Promise<string>((resolve) => (settled = resolve));
    const app = new Koa();
    app.use(async (ctx) => {
      arrived();
      // As when an earlier middleware awaits (a session, a rate limit) while the client goes away.
      if (!ctx.req.destroyed) await new Promise((resolve) => ctx.req.once('close', resolve));
      const waiting = setTimeout(() => settled('still waiting after 2 s'), 2_000);
      settled(
        await readBodyText(ctx, 1024).then(
          () => 'read',
          (err: { code?: string }) => `refused: ${err.code}`,
        ),
      );
      clearTimeout(waiting);
    });
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-length': '100' } });
      req.on('error', () => {});
      req.write('half of it');
      await arriving;
      req.destroy();
      assert.equal(await outcome, 'refused: ERR_STREAM_PREMATURE_CLOSE');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
