// `admin user …`: thin callers of src/services/admin/administration.ts.
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from './args.ts';
import type { Runtime } from '../runtime.ts';
import { appView, sessionView, userWithRolesView } from '../api/views.ts';
import { cliActor } from './actor.ts';
import { printResult, readStdin, table, UsageError } from './output.ts';
import { jsonLinesFrom, onConflictOf, printImport } from './import-input.ts';

async function passwordFrom(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  if (values['password-stdin']) return readStdin();
  if (values.password !== undefined) return values.password;
  throw new UsageError('give the password with --password P or --password-stdin');
}

const showLines = (shown: Record<string, unknown>) =>
  Object.entries(shown)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(' ') : v}`)
    .join('\n');

type Values = Record<string, string | boolean | undefined>;

/** What every `user …` subcommand gets: the runtime, its own arguments, and who the audit records as acting. */
interface Call {
  rt: Runtime;
  sub: string;
  args: string[];
  actor: ReturnType<typeof cliActor>;
}

const common = { json: { type: 'boolean' as const, default: false } };

/** A subcommand of the form `user SUB ID [REST…]`. */
function withId({ args }: Call, usage: string, extra: NonNullable<ParseArgsConfig['options']> = {}) {
  const parsed = parseArgs({ args, allowPositionals: true, options: { ...common, ...extra } });
  if (!parsed.positionals[0]) throw new UsageError(`usage: user ${usage}`);
  return { id: parsed.positionals[0], rest: parsed.positionals.slice(1), values: parsed.values as Values };
}

const withRoles = async (rt: Runtime, u: Awaited<ReturnType<Runtime['admin']['users']['get']>>) => userWithRolesView(u, await rt.admin.users.roles(u.id));

async function create({ rt, args, actor }: Call) {
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
}

async function list({ rt, args }: Call) {
  const { values } = parseArgs({ args, options: { ...common, email: { type: 'string' } } });
  const found = values.email === undefined ? await rt.admin.users.list() : (await rt.admin.users.page({ email: values.email, limit: 200 })).items;
  const users = await Promise.all(found.map((u) => withRoles(rt, u)));
  printResult(values.json, { users }, () =>
    table(
      users.map((u) => ({ ...u, roles: u.roles.join(' ') })),
      ['id', 'email', 'name', 'roles', 'disabled', 'created_at'],
    ),
  );
}

async function show(call: Call) {
  const { rt } = call;
  const { id, values } = withId(call, 'show ID');
  const user = await withRoles(rt, await rt.admin.users.get(id));
  const passkeys = (await rt.passkeys.list(user.id)).map((p) => ({
    name: p.name,
    synced: p.synced,
    created_at: p.createdAt.toISOString(),
    last_used_at: p.lastUsedAt?.toISOString() ?? null,
  }));
  const shown = { ...user, totp: await rt.users.hasTotp(user.id), passkeys };
  printResult(Boolean(values.json), shown, () => showLines(shown));
}

async function update(call: Call) {
  const { rt, actor } = call;
  const { id, values } = withId(call, 'update ID [--email E] [--name N] [--email-verified true|false]', {
    email: { type: 'string' },
    name: { type: 'string' },
    'email-verified': { type: 'string' },
  });
  const verified = values['email-verified'];
  if (verified !== undefined && verified !== 'true' && verified !== 'false') throw new UsageError('--email-verified must be true or false');
  const changes = {
    email: values.email as string | undefined,
    name: values.name as string | undefined,
    emailVerified: verified === undefined ? undefined : verified === 'true',
  };
  const user = await withRoles(rt, await rt.admin.users.update(actor, id, changes));
  printResult(Boolean(values.json), user, () => showLines(user));
}

async function invite({ rt, args, actor }: Call) {
  const { values } = parseArgs({
    args,
    options: { ...common, email: { type: 'string' }, name: { type: 'string' }, send: { type: 'boolean', default: false } },
  });
  if (!values.email) throw new UsageError('user invite needs --email E');
  // The CLI loads the mail templates on first use (src/runtime.ts, deferUi): a theme that cannot be used refuses before the invitation is made.
  if (values.send) await rt.mailer.prepare();
  const invitation = await rt.admin.users.invite(actor, { email: values.email, name: values.name }, values.send);
  const until = invitation.expiresAt.toISOString();
  printResult(
    values.json,
    { email: invitation.email, url: invitation.url, expires_at: until, mailed: values.send },
    () => `invitation for ${invitation.email} (works once, until ${until}${values.send ? '; also mailed' : ''}):\n${invitation.url}`,
  );
}

async function setRole(call: Call) {
  const { rt, sub, actor } = call;
  const { id, rest, values } = withId(call, `${sub} ID ROLE`);
  const role = rest[0];
  if (!role) throw new UsageError(`user ${sub} needs a user id and a role`);
  const adding = sub === 'add-role';
  const changed = await rt.admin.users.setRole(actor, id, role, adding);
  const roles = await rt.admin.users.roles(id);
  const note = changed ? '' : ` (${role} was already ${adding ? 'there' : 'absent'})`;
  printResult(Boolean(values.json), { id, roles, changed }, () => `roles of ${id}: ${roles.join(' ') || '(none)'}${note}`);
}

async function setPassword(call: Call) {
  const { id, values } = withId(call, 'set-password ID (--password P | --password-stdin)', {
    password: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  });
  await call.rt.admin.users.setPassword(call.actor, id, await passwordFrom(values as { password?: string; 'password-stdin'?: boolean }));
  printResult(Boolean(values.json), { id, password_changed: true }, () => `password changed for ${id}`);
}

async function setDisabled(call: Call) {
  const { sub } = call;
  const { id, values } = withId(call, `${sub} ID`);
  await call.rt.admin.users.update(call.actor, id, { disabled: sub === 'disable' });
  printResult(Boolean(values.json), { id, disabled: sub === 'disable' }, () => `user ${id} ${sub}d`);
}

async function resetMfa(call: Call) {
  const { id, values } = withId(call, 'reset-mfa ID');
  await call.rt.admin.users.resetSecondFactor(call.actor, id);
  printResult(Boolean(values.json), { id, mfa_reset: true }, () => `two-step verification removed for ${id}`);
}

async function sessions(call: Call) {
  const { id, values } = withId(call, 'sessions ID');
  const shown = (await call.rt.admin.users.listSessions(id)).map(sessionView);
  printResult(Boolean(values.json), { sessions: shown }, () => table(shown, ['id', 'signed_in_at', 'expires_at', 'amr']));
}

async function endSessions(call: Call) {
  const { rt, actor } = call;
  const { id, rest, values } = withId(call, 'end-sessions ID [SESSION_ID]');
  const sessionId = rest[0];
  if (sessionId) await rt.admin.users.endSession(actor, id, sessionId);
  const ended = sessionId ? 1 : await rt.admin.users.endAllSessions(actor, id);
  printResult(Boolean(values.json), { id, sessions_ended: ended }, () => `${ended} session(s) of ${id} ended`);
}

async function apps(call: Call) {
  const { id, values } = withId(call, 'apps ID');
  const shown = (await call.rt.admin.users.listApps(id)).map(appView);
  printResult(Boolean(values.json), { apps: shown }, () => table(shown, ['grant_id', 'client_id', 'client_name', 'granted_at']));
}

async function revokeApp(call: Call) {
  const { id, rest, values } = withId(call, 'revoke-app ID GRANT_ID');
  const grantId = rest[0];
  if (!grantId) throw new UsageError('usage: user revoke-app ID GRANT_ID');
  await call.rt.admin.users.revokeApp(call.actor, id, grantId);
  printResult(Boolean(values.json), { id, revoked: grantId }, () => `authorization ${grantId} revoked`);
}

/** `user import`: people from another product, as JSON Lines (a file or stdin). */
async function importPeople({ rt, args, actor }: Call) {
  const { values } = parseArgs({
    args,
    options: { ...common, file: { type: 'string' }, 'dry-run': { type: 'boolean', default: false }, 'on-conflict': { type: 'string' } },
  });
  const onConflict = onConflictOf(values['on-conflict']);
  const lines = jsonLinesFrom(values.file, 'user import --file people.jsonl|- [--dry-run] [--on-conflict skip|update|fail]');
  printImport(values.json, 'people', await rt.admin.users.import(actor, lines, { dryRun: values['dry-run'], onConflict }));
}

const SUBCOMMANDS: Record<string, (call: Call) => Promise<void>> = {
  create,
  import: importPeople,
  list,
  show,
  update,
  invite,
  'add-role': setRole,
  'remove-role': setRole,
  'set-password': setPassword,
  disable: setDisabled,
  enable: setDisabled,
  'reset-mfa': resetMfa,
  sessions,
  'end-sessions': endSessions,
  apps,
  'revoke-app': revokeApp,
};

export async function userCommand(rt: Runtime, sub: string | undefined, args: string[]): Promise<void> {
  if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, sub)) {
    throw new UsageError(
      'user commands: create, import --file F, list [--email E], show ID, update ID, invite, add-role ID ROLE, remove-role ID ROLE, set-password ID, ' +
        'disable ID, enable ID, reset-mfa ID, sessions ID, end-sessions ID [SESSION_ID], apps ID, revoke-app ID GRANT_ID',
    );
  }
  await SUBCOMMANDS[sub]!({ rt, sub, args, actor: cliActor() });
}
