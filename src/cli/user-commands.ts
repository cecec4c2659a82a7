// `admin user …`
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import type { PublicUser } from '../services/users.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';

const describe = (u: PublicUser, roles: string[]) => ({
  id: u.id,
  email: u.email,
  email_verified: u.emailVerified,
  name: u.name,
  disabled: u.disabled,
  roles,
  created_at: u.createdAt.toISOString(),
});

async function passwordFrom(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  if (values['password-stdin']) return readStdin();
  if (values.password !== undefined) return values.password;
  throw new UsageError('give the password with --password P or --password-stdin');
}

export async function userCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  const common = { json: { type: 'boolean' as const, default: false } };
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
      const user = await rt.users.create({
        email: values.email,
        password: await passwordFrom(values),
        name: values.name,
        emailVerified: values['email-verified'],
      });
      printResult(values.json, { id: user.id, email: user.email }, () => `created user ${user.id} <${user.email}>`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: common });
      const users = await Promise.all((await rt.users.list()).map(async (u) => describe(u, await rt.users.roles(u.id))));
      printResult(values.json, { users }, () => table(users.map((u) => ({ ...u, roles: u.roles.join(' ') })), ['id', 'email', 'name', 'roles', 'disabled', 'created_at']));
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
      if (!positionals[0]) throw new UsageError('user show needs a user id');
      const user = describe(await rt.users.get(positionals[0]), await rt.users.roles(positionals[0]));
      const passkeys = (await rt.passkeys.list(user.id)).map((p) => ({ name: p.name, synced: p.synced, created_at: p.createdAt.toISOString(), last_used_at: p.lastUsedAt?.toISOString() ?? null }));
      const shown = { ...user, totp: await rt.users.hasTotp(user.id), passkeys };
      printResult(values.json, shown, () => Object.entries(shown).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(' ') : v}`).join('\n'));
      return;
    }
    case 'invite': {
      const { values } = parseArgs({ args, options: { ...common, email: { type: 'string' }, name: { type: 'string' }, send: { type: 'boolean', default: false } } });
      if (!values.email) throw new UsageError('user invite needs --email E');
      const invitation = await rt.accountLinks.invite({ email: values.email, name: values.name }, { actor: 'admin-cli' });
      if (values.send) await rt.accountLinks.mailInvitation(invitation, values.name);
      printResult(
        values.json,
        { email: invitation.email, url: invitation.url, expires_at: invitation.expiresAt.toISOString(), mailed: values.send },
        () => `invitation for ${invitation.email} (works once, until ${invitation.expiresAt.toISOString()}${values.send ? '; also mailed' : ''}):\n${invitation.url}`,
      );
      return;
    }
    case 'add-role':
    case 'remove-role': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
      const [id, role] = positionals;
      if (!id || !role) throw new UsageError(`user ${sub} needs a user id and a role`);
      const changed = sub === 'add-role' ? await rt.users.addRole(id, role) : await rt.users.removeRole(id, role);
      if (changed) await rt.audit.record(sub === 'add-role' ? 'role_added' : 'role_removed', { userId: id }, { role, by: 'admin-cli' });
      const roles = await rt.users.roles(id);
      printResult(values.json, { id, roles, changed }, () => `roles of ${id}: ${roles.join(' ') || '(none)'}${changed ? '' : ` (${role} was already ${sub === 'add-role' ? 'there' : 'absent'})`}`);
      return;
    }
    case 'set-password': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { ...common, password: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      });
      if (!positionals[0]) throw new UsageError('user set-password needs a user id');
      await rt.users.setPassword(positionals[0], await passwordFrom(values));
      printResult(values.json, { id: positionals[0], password_changed: true }, () => `password changed for ${positionals[0]}`);
      return;
    }
    case 'disable':
    case 'enable': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
      if (!positionals[0]) throw new UsageError(`user ${sub} needs a user id`);
      await rt.users.setDisabled(positionals[0], sub === 'disable');
      printResult(values.json, { id: positionals[0], disabled: sub === 'disable' }, () => `user ${positionals[0]} ${sub}d`);
      return;
    }
    case 'reset-mfa': {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: common });
      if (!positionals[0]) throw new UsageError('user reset-mfa needs a user id');
      await rt.users.get(positionals[0]);
      await rt.secondFactor.remove(positionals[0]);
      await rt.audit.record('mfa_reset', { userId: positionals[0] }, { by: 'admin-cli' });
      printResult(values.json, { id: positionals[0], mfa_reset: true }, () => `two-step verification removed for ${positionals[0]}`);
      return;
    }
    default:
      throw new UsageError('user commands: create, list, show ID, invite, set-password ID, disable ID, enable ID, reset-mfa ID, add-role ID ROLE, remove-role ID ROLE');
  }
}
