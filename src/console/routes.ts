// The admin console's routes, as one table: each entry says what it needs
// (src/console/context.ts, consoleGuard), and the router puts the guard in
// front of every one — a route cannot be added without it. The access tests
// (test/console/console-access.test.ts) walk this table.
import Router from '@koa/router';
import type { Context } from 'koa';
import { formBody } from '../middleware/koa-body.ts';
import type { RateLimiters } from '../middleware/koa-rate-limit.ts';
import { confirmRevokeKey, revokeKey } from './api-key-revoke.ts';
import { showApiKeys } from './api-keys.ts';
import { showApp, updateApp } from './app.ts';
import { confirmDeleteApp, deleteApp } from './app-delete.ts';
import { createApp, showNewApp } from './app-new.ts';
import { confirmRotate, rotateSecret } from './app-rotate.ts';
import { showApps } from './apps.ts';
import { showApi, updateApi } from './api.ts';
import { addIntrospector, confirmRemoveIntrospector, removeIntrospector } from './api-introspectors.ts';
import { createApi, showNewApi } from './api-new.ts';
import { showApis } from './apis.ts';
import { showAudit } from './audit.ts';
import { exportCsv, exportJsonLines } from './audit-export.ts';
import { consoleGuard, type Access, type ConsoleDeps } from './context.ts';
import { showOverview } from './overview.ts';
import { showPeople } from './people.ts';
import { showPerson } from './person.ts';
import { confirmRevokeApp, revokeApp } from './person-apps.ts';
import { confirmResetFactor, makePasswordLink, resetFactor } from './person-factors.ts';
import { createPerson, invitePerson, showNewPerson } from './person-new.ts';
import { confirmDisable, disablePerson, enablePerson } from './person-disable.ts';
import { addRole, removeRole } from './person-roles.ts';
import { confirmEndSessions, endSession, endSessions } from './person-sessions.ts';
import { showReauthenticate } from './reauthenticate.ts';
import { showServiceAccount, updateServiceAccount } from './service-account.ts';
import { confirmDisableAccount, disableAccount, enableAccount } from './service-account-disable.ts';
import { addKey, confirmExpireKey, confirmRemoveKey, expireKey, removeKey } from './service-account-keys.ts';
import { createServiceAccount, showNewServiceAccount } from './service-account-new.ts';
import { showServiceAccounts } from './service-accounts.ts';
import { showSettings } from './settings.ts';
import { confirmRotateKey, rotateSigningKey, showSigningKeys } from './signing-keys.ts';

export interface ConsoleRoute {
  method: 'get' | 'post';
  path: string;
  access: Access;
  page: (deps: ConsoleDeps) => (ctx: Context) => Promise<void>;
}

export const CONSOLE_ROUTES: readonly ConsoleRoute[] = [
  { method: 'get', path: '/admin', access: 'read', page: showOverview },
  { method: 'get', path: '/admin/reauthenticate', access: 'role', page: showReauthenticate },
  { method: 'get', path: '/admin/people', access: 'read', page: showPeople },
  { method: 'get', path: '/admin/people/new', access: 'change', page: showNewPerson },
  { method: 'post', path: '/admin/people', access: 'change', page: createPerson },
  { method: 'post', path: '/admin/people/invite', access: 'change', page: invitePerson },
  { method: 'get', path: '/admin/people/:id', access: 'read', page: showPerson },
  { method: 'post', path: '/admin/people/:id/password', access: 'change', page: makePasswordLink },
  { method: 'get', path: '/admin/people/:id/second-factor/reset', access: 'change', page: confirmResetFactor },
  { method: 'post', path: '/admin/people/:id/second-factor/reset', access: 'change', page: resetFactor },
  { method: 'get', path: '/admin/people/:id/apps/:grant/revoke', access: 'change', page: confirmRevokeApp },
  { method: 'post', path: '/admin/people/:id/apps/:grant/revoke', access: 'change', page: revokeApp },
  { method: 'get', path: '/admin/people/:id/disable', access: 'change', page: confirmDisable },
  { method: 'post', path: '/admin/people/:id/disable', access: 'change', page: disablePerson },
  { method: 'post', path: '/admin/people/:id/enable', access: 'change', page: enablePerson },
  { method: 'get', path: '/admin/people/:id/sessions/end', access: 'change', page: confirmEndSessions },
  { method: 'post', path: '/admin/people/:id/sessions/end', access: 'change', page: endSessions },
  { method: 'post', path: '/admin/people/:id/sessions/:session/end', access: 'change', page: endSession },
  { method: 'post', path: '/admin/people/:id/roles', access: 'change', page: addRole },
  { method: 'post', path: '/admin/people/:id/roles/:role/remove', access: 'change', page: removeRole },
  { method: 'get', path: '/admin/apps', access: 'read', page: showApps },
  { method: 'get', path: '/admin/apps/new', access: 'change', page: showNewApp },
  { method: 'post', path: '/admin/apps', access: 'change', page: createApp },
  { method: 'get', path: '/admin/apps/:id', access: 'read', page: showApp },
  { method: 'post', path: '/admin/apps/:id', access: 'change', page: updateApp },
  { method: 'get', path: '/admin/apps/:id/rotate', access: 'change', page: confirmRotate },
  { method: 'post', path: '/admin/apps/:id/rotate', access: 'change', page: rotateSecret },
  { method: 'get', path: '/admin/apps/:id/delete', access: 'change', page: confirmDeleteApp },
  { method: 'post', path: '/admin/apps/:id/delete', access: 'change', page: deleteApp },
  { method: 'get', path: '/admin/apis', access: 'read', page: showApis },
  { method: 'get', path: '/admin/apis/new', access: 'change', page: showNewApi },
  { method: 'post', path: '/admin/apis', access: 'change', page: createApi },
  { method: 'get', path: '/admin/apis/:id', access: 'read', page: showApi },
  { method: 'post', path: '/admin/apis/:id', access: 'change', page: updateApi },
  { method: 'post', path: '/admin/apis/:id/introspectors', access: 'change', page: addIntrospector },
  { method: 'get', path: '/admin/apis/:id/introspectors/:client/remove', access: 'change', page: confirmRemoveIntrospector },
  { method: 'post', path: '/admin/apis/:id/introspectors/:client/remove', access: 'change', page: removeIntrospector },
  { method: 'get', path: '/admin/service-accounts', access: 'read', page: showServiceAccounts },
  { method: 'get', path: '/admin/service-accounts/new', access: 'change', page: showNewServiceAccount },
  { method: 'post', path: '/admin/service-accounts', access: 'change', page: createServiceAccount },
  { method: 'get', path: '/admin/service-accounts/:id', access: 'read', page: showServiceAccount },
  { method: 'post', path: '/admin/service-accounts/:id', access: 'change', page: updateServiceAccount },
  { method: 'get', path: '/admin/service-accounts/:id/disable', access: 'change', page: confirmDisableAccount },
  { method: 'post', path: '/admin/service-accounts/:id/disable', access: 'change', page: disableAccount },
  { method: 'post', path: '/admin/service-accounts/:id/enable', access: 'change', page: enableAccount },
  { method: 'post', path: '/admin/service-accounts/:id/keys', access: 'change', page: addKey },
  { method: 'get', path: '/admin/service-accounts/:id/keys/:kid/expire', access: 'change', page: confirmExpireKey },
  { method: 'post', path: '/admin/service-accounts/:id/keys/:kid/expire', access: 'change', page: expireKey },
  { method: 'get', path: '/admin/service-accounts/:id/keys/:kid/remove', access: 'change', page: confirmRemoveKey },
  { method: 'post', path: '/admin/service-accounts/:id/keys/:kid/remove', access: 'change', page: removeKey },
  { method: 'get', path: '/admin/signing-keys', access: 'read', page: showSigningKeys },
  { method: 'get', path: '/admin/signing-keys/rotate', access: 'change', page: confirmRotateKey },
  { method: 'post', path: '/admin/signing-keys/rotate', access: 'change', page: rotateSigningKey },
  { method: 'get', path: '/admin/audit', access: 'read', page: showAudit },
  { method: 'get', path: '/admin/settings', access: 'read', page: showSettings },
  { method: 'get', path: '/admin/audit/export.csv', access: 'read', page: exportCsv },
  { method: 'get', path: '/admin/audit/export.jsonl', access: 'read', page: exportJsonLines },
  { method: 'get', path: '/admin/api-keys', access: 'read', page: showApiKeys },
  { method: 'get', path: '/admin/api-keys/:id/revoke', access: 'change', page: confirmRevokeKey },
  { method: 'post', path: '/admin/api-keys/:id/revoke', access: 'change', page: revokeKey },
];

export function consoleRoutes(deps: ConsoleDeps, limits: RateLimiters): Router {
  const router = new Router();
  // Posts: the account pages' budget, then who may (before anything is read from the body), then the form and its CSRF token.
  const post = [formBody, deps.csrf.verify] as const;
  for (const route of CONSOLE_ROUTES) {
    const guard = consoleGuard(deps, route.access);
    if (route.method === 'get') router.get(route.path, guard, route.page(deps));
    else router.post(route.path, limits.page('account'), guard, ...post, route.page(deps));
  }
  return router;
}
