// `admin user …`: thin callers of src/services/administration.ts.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Runtime } from '../runtime.ts';
import { appView, sessionView, userView } from '../services/admin-views.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';

async function passwordFrom(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  if (values['password-stdin']) return readStdin();
  if (values.password !== undefined) return values.password;
  throw new UsageError('give the password with --password P or --password-stdin');
}

export async function userCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const common = { json: { type: 'boolean' as const, default: false } };
  const actor = cliActor();
  const withId = (usage: string, extra: NonNullable<ParseArgsConfig['options']> = {}) => {
    const parsed = parseArgs({ args, allowPositionals: true, options: { ...common, ...extra } });
    if (!parsed.positionals[0]) throw new UsageError(`usage: user ${usage}`);
    return { id: parsed.positionals[0], rest: parsed.positionals.slice(1), values: parsed.values as Record<string, string | boolean | undefined> };
  };
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
      const users = values.email === undefined ? (await rt.admin.users.list()).map(userView) : (await rt.admin.users.page({ email: values.email, limit: 200 })).items.map(userView);
      printResult(values.json, { users }, () => table(users, ['id', 'email', 'name', 'disabled', 'created_at']));
      return;
    }
    case 'show': {
      const { id, values } = withId('show ID');
      const user = userView(await rt.admin.users.get(id));
      printResult(Boolean(values.json), user, () => JSON.stringify(user, null, 2));
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
      const user = userView(await rt.admin.users.update(actor, id, {
        email: values.email as string | undefined,
        name: values.name as string | undefined,
        emailVerified: verified === undefined ? undefined : verified === 'true',
      }));
      printResult(Boolean(values.json), user, () => JSON.stringify(user, null, 2));
      return;
    }
    case 'set-password': {
      const { id, values } = withId('set-password ID (--password P | --password-stdin)', { password: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
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
      const { id, values } = withId('end-sessions ID [SESSION_ID]');
      const sessionId = parseArgs({ args, allowPositionals: true, options: common }).positionals[1];
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
      throw new UsageError('user commands: create, list [--email E], show ID, update ID, set-password ID, disable ID, enable ID, reset-mfa ID, sessions ID, end-sessions ID [SESSION_ID], apps ID, revoke-app ID GRANT_ID');
  }
}
