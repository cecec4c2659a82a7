// oidc-provider asks for an account whenever it issues or serves tokens.
// Disabled or deleted people have no account: their refresh tokens stop working.
import type { FindAccount } from 'oidc-provider';
import type { UserService } from '../services/people/users.ts';

export function createFindAccount(users: UserService): FindAccount {
  return async (_ctx, sub) => {
    const user = await users.findActive(sub);
    if (!user) return undefined;
    return {
      accountId: user.id,
      async claims() {
        return {
          sub: user.id,
          email: user.email,
          email_verified: user.emailVerified,
          ...(user.name ? { name: user.name } : {}),
        };
      },
    };
  };
}
