// `admin user …`: thin callers of src/services/admin/administration.ts.
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { appView, sessionView, userWithRolesView } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';

async function passwordFrom(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  if (values['password-stdin']) return readStdin();
  if (values.password !== undefined) return values.password;
  throw new UsageError('give the password with --password P or --password-stdin');
}

const showLines = (shown: Record<string, unknown>) =>
  Object.entries(shown)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(' ') : v}`)
    .join('\n');

export async function userCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const common = { json: { type: 'boolean' as const, default: false } };
  const actor = cliActor();
  const withId = (usage: string, extra: NonNullable<ParseArgsConfig['options']> = {}) => {
    const parsed = parseArgs({ args, allowPositionals: true, options: { ...common, ...extra } });
    if (!parsed.positionals[0]) throw new UsageError(`usage: user ${usage}`);
    return { id: parsed.positionals[0], rest: parsed.positionals.slice(1), values: parsed.values as Record<string, string | boolean | undefined> };
  };
  const withRoles = async (u: Awaited<ReturnType<Runtime['admin']['users']['get']>>) => userWithRolesView(u, await rt.admin.users.roles(u.id));
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args,
        options: {
          ...common,
          email: { type: 'string' },
          password: { type: 'string' },
          'password-stdin': { type: 'boolean' },
          name: { type: 'string' },
          'email-verified': { type: 'boolean', default: false },
        },
      });
      if (!values.email) throw new UsageError('user create needs --email E');
      const user = await rt.admin.users.create(actor, {
        email: values.email,
        password: await passwordFrom(values),
        name: values.name,
        emailVerified: values['email-verified'],
      });
      printResult(values.json, { id: user.id, email: user.email }, () => `created user ${user.id} <${user.email}>`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { ...common, email: { type: 'string' } } });
      const found = values.email === undefined ? await rt.admin.users.list() : (await rt.admin.users.page({ email: values.email, limit: 200 })).items;
      const users = await Promise.all(found.map(withRoles));
      printResult(values.json, { users }, () =>
        table(
          users.map((u) => ({ ...u, roles: u.roles.join(' ') })),
          ['id', 'email', 'name', 'roles', 'disabled', 'created_at'],
        ),
      );
      return;
    }
    case 'show': {
      const { id, values } = withId('show ID');
      const user = await withRoles(await rt.admin.users.get(id));
      const passkeys = (await rt.passkeys.list(user.id)).map((p) => ({
        name: p.name,
        synced: p.synced,
        created_at: p.createdAt.toISOString(),
        last_used_at: p.lastUsedAt?.toISOString() ?? null,
      }));
      const shown = { ...user, totp: await rt.users.hasTotp(user.id), passkeys };
      printResult(Boolean(values.json), shown, () => showLines(shown));
      return;
    }
    case 'update': {
      const { id, values } = withId('update ID [--email E] [--name N] [--email-verified true|false]', {
        email: { type: 'string' },
        name: { type: 'string' },
        'email-verified': { type: 'string' },
      });
      const verified = values['email-verified'];
      if (verified !== undefined && verified !== 'true' && verified !== 'false') throw new UsageError('--email-verified must be true or false');
      const user = await withRoles(
        await rt.admin.users.update(actor, id, {
          email: values.email as string | undefined,
          name: values.name as string | undefined,
          emailVerified: verified === undefined ? undefined : verified === 'true',
        }),
      );
      printResult(Boolean(values.json), user, () => showLines(user));
      return;
    }
    case 'invite': {
      const { values } = parseArgs({
        args,
        options: { ...common, email: { type: 'string' }, name: { type: 'string' }, send: { type: 'boolean', default: false } },
      });
      if (!values.email) throw new UsageError('user invite needs --email E');
      const invitation = await rt.admin.users.invite(actor, { email: values.email, name: values.name }, values.send);
      printResult(
        values.json,
        { email: invitation.email, url: invitation.url, expires_at: invitation.expiresAt.toISOString(), mailed: values.send },
        () =>
          `invitation for ${invitation.email} (works once, until ${invitation.expiresAt.toISOString()}${values.send ? '; also mailed' : ''}):\n${invitation.url}`,
      );
      return;
    }
    case 'add-role':
    case 'remove-role': {
      const { id, rest, values } = withId(`${sub} ID ROLE`);
      const role = rest[0];
      if (!role) throw new UsageError(`user ${sub} needs a user id and a role`);
      const changed = await rt.admin.users.setRole(actor, id, role, sub === 'add-role');
      const roles = await rt.admin.users.roles(id);
      printResult(
        Boolean(values.json),
        { id, roles, changed },
        () => `roles of ${id}: ${roles.join(' ') || '(none)'}${changed ? '' : ` (${role} was already ${sub === 'add-role' ? 'there' : 'absent'})`}`,
      );
      return;
    }
    case 'set-password': {
      const { id, values } = withId('set-password ID (--password P | --password-stdin)', {
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      });
      await rt.admin.users.setPassword(actor, id, await passwordFrom(values as { password?: string; 'password-stdin'?: boolean }));
      printResult(Boolean(values.json), { id, password_changed: true }, () => `password changed for ${id}`);
      return;
    }
    case 'disable':
    case 'enable': {
      const { id, values } = withId(`${sub} ID`);
      await rt.admin.users.update(actor, id, { disabled: sub === 'disable' });
      printResult(Boolean(values.json), { id, disabled: sub === 'disable' }, () => `user ${id} ${sub}d`);
      return;
    }
    case 'reset-mfa': {
      const { id, values } = withId('reset-mfa ID');
      await rt.admin.users.resetSecondFactor(actor, id);
      printResult(Boolean(values.json), { id, mfa_reset: true }, () => `two-step verification removed for ${id}`);
      return;
    }
    case 'sessions': {
      const { id, values } = withId('sessions ID');
      const sessions = (await rt.admin.users.listSessions(id)).map(sessionView);
      printResult(Boolean(values.json), { sessions }, () => table(sessions, ['id', 'signed_in_at', 'expires_at', 'amr']));
      return;
    }
    case 'end-sessions': {
      const { id, rest, values } = withId('end-sessions ID [SESSION_ID]');
      const sessionId = rest[0];
      if (sessionId) await rt.admin.users.endSession(actor, id, sessionId);
      const ended = sessionId ? 1 : await rt.admin.users.endAllSessions(actor, id);
      printResult(Boolean(values.json), { id, sessions_ended: ended }, () => `${ended} session(s) of ${id} ended`);
      return;
    }
    case 'apps': {
      const { id, values } = withId('apps ID');
      const apps = (await rt.admin.users.listApps(id)).map(appView);
      printResult(Boolean(values.json), { apps }, () => table(apps, ['grant_id', 'client_id', 'client_name', 'granted_at']));
      return;
    }
    case 'revoke-app': {
      const { id, rest, values } = withId('revoke-app ID GRANT_ID');
      if (!rest[0]) throw new UsageError('usage: user revoke-app ID GRANT_ID');
      await rt.admin.users.revokeApp(actor, id, rest[0]);
      printResult(Boolean(values.json), { id, revoked: rest[0] }, () => `authorization ${rest[0]} revoked`);
      return;
    }
    default:
      throw new UsageError(
        'user commands: create, list [--email E], show ID, update ID, invite, add-role ID ROLE, remove-role ID ROLE, set-password ID, disable ID, enable ID, reset-mfa ID, sessions ID, end-sessions ID [SESSION_ID], apps ID, revoke-app ID GRANT_ID',
      );
  }
}
