// /admin/api/v1/signing-keys: the server's token-signing keys, and rotation.
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { signingKeyView } from '../views.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { RotatedSigningKey, RotateSigningKey, SigningKeys } from './schemas.ts';

const tags = ['signing keys'];

export function signingKeyRoutes({ admin }: AdminRouteDeps) {
  return [
    defineRoute({
      method: 'get',
      path: '/signing-keys',
      operationId: 'listSigningKeys',
      summary: 'Signing keys and their stages',
      tags,
      scope: ADMIN_READ_SCOPE,
      responses: {
        200: {
          description: 'every key, retired ones included (their private part is erased)',
          schema: SigningKeys,
          example: {
            items: [
              {
                kid: 'Zb1…',
                alg: 'RS256',
                state: 'active',
                created_at: '2026-11-01T00:00:00.000Z',
                activates_at: '2026-11-01T00:00:00.000Z',
                retires_at: null,
                next_change: null,
              },
            ],
          },
        },
      },
      async handle() {
        return { status: 200, body: { items: (await admin.signingKeys.status()).map((k) => signingKeyView(k, admin.clock.now())) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/signing-keys/rotate',
      operationId: 'rotateSigningKey',
      summary: 'Stage a new signing key',
      tags,
      scope: ADMIN_SCOPE,
      description:
        "The new key is published at each node's next key refresh and signs after " +
        'KEY_ROTATION_DELAY; the key it replaces stays published until its tokens have expired.',
      body: RotateSigningKey,
      bodyExample: { alg: 'ES256' },
      responses: {
        201: {
          description: 'staged',
          schema: RotatedSigningKey,
          example: { kid: 'Qm9…', alg: 'ES256', state: 'next', activates_at: '2026-11-23T12:10:00.000Z' },
        },
      },
      async handle({ ctx, body, caller }) {
        const { kid, alg, activatesAt } = await admin.signingKeys.rotate(actorOf(caller), body.alg, metaOf(ctx));
        return { status: 201, body: { kid, alg, state: 'next', activates_at: activatesAt.toISOString() } };
      },
    }),
  ];
}
