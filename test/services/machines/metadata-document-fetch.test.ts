// The metadata-document fetcher is a request anyone can aim: these are the
// ways an attacker would aim it at the inside of the network, tried against a
// real TLS server on 127.0.0.1 with names resolved by a resolver the test
// controls (a rebinding DNS server in miniature).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createMetadataDocumentFetcher,
  isSpecialUseAddress,
  MetadataFetchRefused,
  type ResolvedAddress,
} from '../../../src/services/machines/metadata-document-fetch.ts';
import { startDocumentServer, type DocumentServer } from '../../helpers/https-documents.ts';

describe('fetching client metadata documents (SSRF rules)', () => {
  let docs: DocumentServer;

  before(async () => {
    docs = await startDocumentServer(['rebind.test', 'public.test']);
    docs.serve('/client.json', { body: { client_id: 'x' }, headers: { 'cache-control': 'max-age=600' } });
    docs.serve('/no-store.json', { body: {}, headers: { 'cache-control': 'no-store' } });
    docs.serve('/big.json', { body: { pad: 'x'.repeat(10_000) } });
    docs.serve('/redirect.json', { status: 302, headers: { location: '/client.json' } });
    docs.serve('/stall.json', { stall: true });
  });
  after(async () => {
    await docs?.close();
  });

  const fetcher = (over: Partial<Parameters<typeof createMetadataDocumentFetcher>[0]> = {}) =>
    createMetadataDocumentFetcher({ allowPrivate: true, extraCa: docs.caPem, maxBytes: 5120, timeoutMs: 2000, ...over });

  it('fetches a document over https from a trusted certificate, with what HTTP caching allows', async () => {
    const doc = await fetcher()(`${docs.origin}/client.json`);
    assert.equal(doc.status, 200);
    assert.deepEqual(JSON.parse(doc.body.toString()), { client_id: 'x' });
    assert.equal(doc.headers['cache-control'], 'max-age=600');
    assert.equal((await fetcher()(`${docs.origin}/no-store.json`)).headers['cache-control'], 'max-age=0', 'no-store is never reused');
  });

  it('refuses loopback, private and link-local addresses unless allowed, by literal or by name', async () => {
    const strict = fetcher({ allowPrivate: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    for (const url of [`${docs.origin}/client.json`, `https://127.0.0.1:${docs.port}/client.json`, `https://[::1]:${docs.port}/client.json`]) {
      await assert.rejects(strict(url), (err: Error) => err instanceof MetadataFetchRefused && /loopback, private or special-use/.test(err.message), url);
    }
    const before = docs.hits('/client.json');
    for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '::ffff:127.0.0.1', 'fd00::1', 'fe80::1', '0.0.0.0']) {
      assert.ok(isSpecialUseAddress(address), address);
      const f = fetcher({ allowPrivate: false, resolve: async () => [{ address, family: address.includes(':') ? 6 : 4 }] });
      await assert.rejects(f('https://public.test/client.json'), /special-use/, address);
    }
    assert.equal(docs.hits('/client.json'), before, 'no refused request reached the server');
    for (const address of ['93.184.216.34', '2606:4700::1111']) assert.ok(!isSpecialUseAddress(address), address);
  });

  it('a name with a public and a private address is refused: every resolved address is checked', async () => {
    const f = fetcher({
      allowPrivate: false,
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    await assert.rejects(f('https://public.test/client.json'), /special-use/);
  });

  it('DNS rebinding gets nowhere: the name is resolved once and the connection goes to the checked address', async () => {
    let calls = 0;
    // First answer: the address that is checked; any later answer would be an unroutable one.
    const resolve = async (): Promise<ResolvedAddress[]> => (calls++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.255.255.1', family: 4 }]);
    const doc = await fetcher({ resolve })(`https://rebind.test:${docs.port}/client.json`);
    assert.equal(doc.status, 200);
    assert.equal(calls, 1, 'resolved exactly once');
  });

  it('https only, no redirects followed, a size cap and a deadline', async () => {
    await assert.rejects(fetcher()(`http://localhost:${docs.port}/client.json`), /https only/);
    const redirected = docs.hits('/client.json');
    const answer = await fetcher()(`${docs.origin}/redirect.json`);
    assert.equal(answer.status, 302, 'the redirect is the answer (refused by the caller as not 200)');
    assert.equal(docs.hits('/client.json'), redirected, 'its target was never fetched');
    await assert.rejects(fetcher()(`${docs.origin}/big.json`), /larger than 5120 bytes/);
    const started = process.hrtime.bigint();
    await assert.rejects(fetcher({ timeoutMs: 200 })(`${docs.origin}/stall.json`), /no answer within 200 ms/);
    assert.ok(process.hrtime.bigint() - started < 5_000_000_000n);
  });

  it('a certificate nobody vouched for is refused (no CA given)', async () => {
    await assert.rejects(
      createMetadataDocumentFetcher({ allowPrivate: true, maxBytes: 5120, timeoutMs: 2000 })(`${docs.origin}/client.json`),
      /could not be fetched/,
    );
  });
});
