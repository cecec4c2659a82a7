// `admin user …`
import { parseArgs } from 'node:util';
import type { Runtime } from '../runtime.ts';
import type { PublicUser } from '../services/users.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';

const describe = (u: PublicUser) => ({
  id: u.id,
  email: u.email,
  email_verified: u.emailVerified,
  name: u.name,
  disabled: u.disabled,
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
      const users = (await rt.users.list()).map(describe);
      printResult(values.json, { users }, () => table(users, ['id', 'email', 'name', 'disabled', 'created_at']));
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
      throw new UsageError('user commands: create, list, set-password ID, disable ID, enable ID, reset-mfa ID');
  }
}
