// /admin/api/v1/users: people, their password and second factor, their
// sessions and the apps they authorized.
import * as z from 'zod';
import { ADMIN_READ_SCOPE, ADMIN_SCOPE } from '../../services/admin/administration.ts';
import { appView, sessionView, userView, userWithRolesView } from '../views.ts';
import type { PublicUser } from '../../services/people/users.ts';
import { defineRoute } from '../registry.ts';
import { actorOf, metaOf, type AdminRouteDeps } from './context.ts';
import { ifMatch, withEtag } from './preconditions.ts';
import {
  AuthorizedApps,
  CreateInvitation,
  CreateUser,
  Invitation,
  RoleParams,
  Roles,
  Sessions,
  SessionsEnded,
  SetPassword,
  UpdateUser,
  User,
  userExample,
  UserIdParams,
  UserQuery,
} from './schemas.ts';
import { pageOf } from '../list-queries.ts';

const tags = ['users'];
const SessionParams = z.strictObject({ user_id: z.string().min(1).max(200), session_id: z.string().min(1).max(200) });
const GrantParams = z.strictObject({ user_id: z.string().min(1).max(200), grant_id: z.string().min(1).max(200) });

export function userRoutes({ admin }: AdminRouteDeps) {
  /** The user with their roles; the ETag covers what PATCH changes (roles have their own routes). */
  const answer = async (user: PublicUser, status = 200) => withEtag(userWithRolesView(user, await admin.users.roles(user.id)), status, userView(user));
  return [
    defineRoute({
      method: 'get',
      path: '/users',
      operationId: 'listUsers',
      summary: 'List users (oldest first), optionally by email',
      tags,
      scope: ADMIN_READ_SCOPE,
      query: UserQuery,
      responses: { 200: { description: 'a page of users', schema: pageOf(User, 'UserPage'), example: { items: [userExample] } } },
      async handle({ query }) {
        const page = await admin.users.page(query);
        const items = await Promise.all(page.items.map(async (u) => userWithRolesView(u, await admin.users.roles(u.id))));
        return { status: 200, body: { items, ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/users',
      operationId: 'createUser',
      summary: 'Create a user',
      tags,
      scope: ADMIN_SCOPE,
      body: CreateUser,
      bodyExample: { email: 'ada@example.com', password: 'a long passphrase', name: 'Ada', email_verified: true },
      responses: { 201: { description: 'created', schema: User, example: userExample }, 409: { description: 'the email is taken' } },
      async handle({ ctx, body, caller }) {
        const user = await admin.users.create(
          actorOf(caller),
          { email: body.email, password: body.password, name: body.name, emailVerified: body.email_verified },
          metaOf(ctx),
        );
        const created = await answer(user, 201);
        return { ...created, headers: { ...created.headers, Location: `${ctx.path}/${user.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/{user_id}',
      operationId: 'getUser',
      summary: 'One user (with an ETag)',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: UserIdParams,
      responses: { 200: { description: 'the user', schema: User, example: userExample }, 404: { description: 'no such user' } },
      async handle({ params }) {
        return answer(await admin.users.get(params.user_id));
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/users/{user_id}',
      operationId: 'updateUser',
      summary: 'Change name, email or disabled (If-Match required)',
      tags,
      scope: ADMIN_SCOPE,
      description:
        'A changed email is unverified unless email_verified is sent. Disabling ends ' +
        'every session and revokes every grant and stored token of the person at once.',
      params: UserIdParams,
      body: UpdateUser,
      bodyExample: { name: 'Ada Lovelace', disabled: false },
      responses: {
        200: { description: 'the changed user', schema: User, example: { ...userExample, name: 'Ada Lovelace' } },
        404: { description: 'no such user' },
        409: { description: 'the email is taken' },
        412: { description: 'If-Match does not match: the user changed since it was read' },
        428: { description: 'If-Match is missing' },
      },
      async handle({ ctx, params, body, caller }) {
        const user = await admin.users.update(
          actorOf(caller),
          params.user_id,
          {
            email: body.email,
            name: body.name,
            emailVerified: body.email_verified,
            disabled: body.disabled,
          },
          ifMatch<PublicUser>(ctx, userView),
          metaOf(ctx),
        );
        return answer(user);
      },
    }),
    ...(['put', 'delete'] as const).map((method) =>
      defineRoute({
        method,
        path: '/users/{user_id}/roles/{role}',
        operationId: method === 'put' ? 'addUserRole' : 'removeUserRole',
        summary: method === 'put' ? 'Give a user a role' : 'Take a role away',
        tags,
        scope: ADMIN_SCOPE,
        description:
          'Idempotent: `changed` says whether anything changed (only a change is audited). ' +
          'Roles go into access tokens of resources that ask for the `roles` claim.',
        params: RoleParams,
        responses: {
          200: { description: "the user's roles now", schema: Roles, example: { id: userExample.id, roles: ['auditor', 'hr-admin'], changed: true } },
          404: { description: 'no such user' },
        },
        async handle({ ctx, params, caller }) {
          const changed = await admin.users.setRole(actorOf(caller), params.user_id, params.role, method === 'put', metaOf(ctx));
          return { status: 200, body: { id: params.user_id, roles: await admin.users.roles(params.user_id), changed } };
        },
      }),
    ),
    defineRoute({
      method: 'post',
      path: '/invitations',
      operationId: 'createInvitation',
      summary: 'Invite someone to make an account (REGISTRATION=invite or open)',
      tags,
      scope: ADMIN_SCOPE,
      body: CreateInvitation,
      bodyExample: { email: 'new.hire@example.com', name: 'New Hire', send: true },
      responses: {
        201: {
          description: 'the link (in this response only)',
          schema: Invitation,
          example: { email: 'new.hire@example.com', url: 'https://id.example.com/invitation?token=…', expires_at: '2026-11-30T12:00:00.000Z', mailed: true },
        },
      },
      async handle({ ctx, body, caller }) {
        const invitation = await admin.users.invite(actorOf(caller), { email: body.email, name: body.name }, body.send, metaOf(ctx));
        return { status: 201, body: { email: invitation.email, url: invitation.url, expires_at: invitation.expiresAt.toISOString(), mailed: body.send } };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/users/{user_id}/password',
      operationId: 'setUserPassword',
      summary: 'Set a new password',
      tags,
      scope: ADMIN_SCOPE,
      params: UserIdParams,
      body: SetPassword,
      bodyExample: { password: 'another long passphrase' },
      responses: { 204: { description: 'changed' }, 404: { description: 'no such user' } },
      async handle({ ctx, params, body, caller }) {
        await admin.users.setPassword(actorOf(caller), params.user_id, body.password, metaOf(ctx));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/{user_id}/second-factor',
      operationId: 'resetUserSecondFactor',
      summary: 'Remove the authenticator app, recovery codes and passkeys (a lost device)',
      tags,
      scope: ADMIN_SCOPE,
      params: UserIdParams,
      responses: { 204: { description: 'removed' }, 404: { description: 'no such user' } },
      async handle({ ctx, params, caller }) {
        await admin.users.resetSecondFactor(actorOf(caller), params.user_id, metaOf(ctx));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/{user_id}/sessions',
      operationId: 'listUserSessions',
      summary: 'Single sign-on sessions of a user',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: UserIdParams,
      responses: {
        200: {
          description: 'the sessions',
          schema: Sessions,
          example: {
            items: [
              {
                id: 'u8Yk3d…',
                signed_in_at: '2026-11-23T12:00:00.000Z',
                expires_at: '2026-12-07T12:00:00.000Z',
                amr: ['pwd'],
                acr: 'urn:latchkey:acr:password',
                client_ids: ['kX3v9q2LrN8pYw1mZt6b4A'],
              },
            ],
          },
        },
      },
      async handle({ params }) {
        return { status: 200, body: { items: (await admin.users.listSessions(params.user_id)).map(sessionView) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/{user_id}/sessions',
      operationId: 'endUserSessions',
      summary: 'Sign a user out everywhere',
      tags,
      scope: ADMIN_SCOPE,
      params: UserIdParams,
      responses: { 200: { description: 'how many sessions ended', schema: SessionsEnded, example: { sessions_ended: 2 } } },
      async handle({ ctx, params, caller }) {
        return { status: 200, body: { sessions_ended: await admin.users.endAllSessions(actorOf(caller), params.user_id, metaOf(ctx)) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/{user_id}/sessions/{session_id}',
      operationId: 'endUserSession',
      summary: 'End one session',
      tags,
      scope: ADMIN_SCOPE,
      params: SessionParams,
      responses: { 204: { description: 'ended' }, 404: { description: 'no such session of this user' } },
      async handle({ ctx, params, caller }) {
        await admin.users.endSession(actorOf(caller), params.user_id, params.session_id, metaOf(ctx));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/{user_id}/apps',
      operationId: 'listUserApps',
      summary: 'Apps the user authorized',
      tags,
      scope: ADMIN_READ_SCOPE,
      params: UserIdParams,
      responses: {
        200: {
          description: 'the authorizations',
          schema: AuthorizedApps,
          example: {
            items: [
              {
                grant_id: 'Jp2x…',
                client_id: 'kX3v9q2LrN8pYw1mZt6b4A',
                client_name: 'Billing',
                scopes: ['profile', 'email'],
                granted_at: '2026-11-23T12:00:00.000Z',
              },
            ],
          },
        },
      },
      async handle({ params }) {
        return { status: 200, body: { items: (await admin.users.listApps(params.user_id)).map(appView) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/users/{user_id}/apps/{grant_id}',
      operationId: 'revokeUserApp',
      summary: "Withdraw an app's authorization and its tokens",
      tags,
      scope: ADMIN_SCOPE,
      params: GrantParams,
      responses: { 204: { description: 'revoked' }, 404: { description: 'no such authorization of this user' } },
      async handle({ ctx, params, caller }) {
        await admin.users.revokeApp(actorOf(caller), params.user_id, params.grant_id, metaOf(ctx));
        return { status: 204 };
      },
    }),
  ];
}
