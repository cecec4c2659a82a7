// GET /interaction/:uid — the page for whatever the provider needs now.
import type { Context } from 'koa';
import { renderSecondFactor, type InteractionDeps } from './context.ts';
import { describeScopes } from './scope-descriptions.ts';

export function showInteraction(deps: InteractionDeps) {
  const { interactions, users, csrf, render, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    if (it.prompt === 'login') {
      let state = await loginState.get(uid);
      // Signed in with a password only, and this client wants a second factor
      // the person already has: ask for that alone (step-up). A person
      // without one signs in with the password first: a session alone must
      // never be enough to enrol a factor (a stolen cookie would do).
      if (!state && it.accountId && it.reasons.length === 1 && it.reasons[0] === 'mfa_required' && (await users.hasSecondFactor(it.accountId))) {
        state = { accountId: it.accountId };
        await loginState.save(uid, state);
      }
      if (state) return renderSecondFactor(deps, ctx, it, state.accountId);
      const signedInAs = !it.loginHint && it.accountId ? (await users.findActive(it.accountId))?.email : undefined;
      return render(ctx, 'login', { uid, csrf: csrf.token(ctx), clientName: it.clientName, email: it.loginHint ?? signedInAs ?? '' });
    }
    if (it.prompt === 'consent' && it.accountId) {
      const user = await users.get(it.accountId);
      return render(ctx, 'consent', {
        uid,
        csrf: csrf.token(ctx),
        clientName: it.clientName,
        email: user.email,
        scopes: describeScopes(it.missingScopes, it.missingResourceScopes),
      });
    }
    return render(ctx, 'error', { message: 'This sign-in step is not supported.', code: it.prompt }, 400);
  };
}
