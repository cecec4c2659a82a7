// Who is running the admin CLI, for the audit trail: the operating-system
// user (the shell on the server is the credential here).
import { userInfo } from 'node:os';
import type { Actor } from '../services/admin/audit.ts';
import { cliIo } from './io.ts';

export function cliActor(): Actor {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = cliIo().env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
  return { kind: 'cli', osUser };
}
