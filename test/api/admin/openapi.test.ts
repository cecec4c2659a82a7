// The admin API's OpenAPI 3.1 document: served, complete (every route the
// server dispatches is in it), valid against the OpenAPI 3.1 schema, and its
// examples valid against their own schemas.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { adminRouteList } from '../../../src/api/admin/index.ts';
import { startTestServer, type TestServer } from '../../helpers/server.ts';

type Doc = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        requestBody?: { content: Record<string, { schema: { $ref: string }; example?: unknown }> };
        responses: Record<string, { content?: Record<string, { schema: { $ref: string }; example?: unknown }> }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { flows: { clientCredentials: { scopes: Record<string, string> } } }> };
};

describe('admin API OpenAPI document', () => {
  let server: TestServer;
  let doc: Doc;

  before(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.issuer}/admin/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    doc = (await res.json()) as Doc;
  });
  after(() => server.stop());

  it('lists every route the server dispatches, and nothing else', () => {
    const declared = adminRouteList(server.runtime.admin)
      .map((r) => `${r.method} ${r.path} ${r.operationId}`)
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => `${m} ${path} ${op.operationId}`))
      .sort();
    assert.deepEqual(documented, declared);
    for (const needed of [
      'createClient',
      'rotateClientSecret',
      'listUsers',
      'endUserSessions',
      'revokeUserApp',
      'addServiceAccountKeys',
      'rotateSigningKey',
      'listAuditEvents',
    ]) {
      assert.ok(
        documented.some((d) => d.endsWith(` ${needed}`)),
        needed,
      );
    }
    assert.equal(doc.servers[0]!.url, `${server.issuer}/admin/api/v1`);
    assert.deepEqual(Object.keys(doc.components.securitySchemes.latchkey!.flows.clientCredentials.scopes).sort(), ['latchkey:admin', 'latchkey:admin:read']);
  });

  it('validates against the OpenAPI 3.1 schema', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc as never);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  it('every example validates against its own schema, and there is one for every body', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const check = (where: string, ref: string, example: unknown) => {
      const validate = ajv.getSchema(`doc${ref}`) ?? ajv.compile({ $ref: `doc${ref}` });
      assert.ok(validate(example), `${where}: ${JSON.stringify(validate.errors)}`);
    };
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const body = op.requestBody?.content['application/json'];
        if (body) {
          assert.notEqual(body.example, undefined, `${method} ${path} has a request example`);
          check(`${op.operationId} request`, body.schema.$ref, body.example);
          checked++;
        }
        for (const [status, res] of Object.entries(op.responses)) {
          const json = res.content?.['application/json'];
          if (!json) continue;
          assert.notEqual(json.example, undefined, `${op.operationId} ${status} has an example`);
          check(`${op.operationId} ${status}`, json.schema.$ref, json.example);
          checked++;
        }
      }
    }
    assert.ok(checked >= 30, `${checked} examples checked`);
  });

  it('an example that breaks its schema is caught (the check can fail)', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const validate = ajv.compile({ $ref: 'doc#/components/schemas/Client' });
    assert.equal(validate({ client_id: 1 }), false);
  });
});
