// `admin bootstrap --person EMAIL`: the admin console's first administrator,
// from a shell on the server (as `bootstrap --name` gives the admin API its
// first service account). Everything after it goes through the console.
import type { Runtime } from '../runtime.ts';
import { cliActor } from './actor.ts';
import { parseArgs } from './args.ts';
import { printResult, UsageError } from './output.ts';

export async function bootstrapPersonCommand(rt: Runtime, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, person: { type: 'string' } } });
  if (!values.person) throw new UsageError("usage: bootstrap --person EMAIL   (the admin console's first administrator)");
  const role = rt.config.console.adminRole;
  const person = await rt.admin.users.bootstrapAdministrator(cliActor(), values.person, role);
  const consoleUrl = `${rt.config.issuer}/admin`;
  printResult(values.json, { user_id: person.id, email: person.email, role, console: consoleUrl }, () =>
    [
      `administrator: ${person.email} (${person.id}) now has the role ${role}`,
      `the console: ${consoleUrl} (a second factor is asked for at sign-in; one is set up then if there is none)`,
    ].join('\n'),
  );
}
