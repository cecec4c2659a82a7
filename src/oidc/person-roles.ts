// A person's roles, read at most once per request however many resources and
// claims of one token ask for them (what they may hold at each resource, the
// `roles` claim), and not at all for a token whose resource needs neither.
import type { UserService } from '../services/people/users.ts';
import { requestSlot } from '../request-slot.ts';

export type RolesOf = (ctx: object | undefined, accountId: string) => Promise<string[]>;

export function createRolesOf(users: Pick<UserService, 'roles'>): RolesOf {
  const read = requestSlot<Map<string, Promise<string[]>>>('roles read');
  return (ctx, accountId) => {
    if (!ctx) return users.roles(accountId);
    let byAccount = read.get(ctx);
    if (!byAccount) {
      byAccount = new Map();
      read.set(ctx, byAccount);
    }
    let roles = byAccount.get(accountId);
    if (!roles) {
      roles = users.roles(accountId);
      byAccount.set(accountId, roles);
    }
    return roles;
  };
}
