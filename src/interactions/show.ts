// GET /interaction/:uid — the page for whatever the provider needs now.
import type { Context } from 'koa';
import { msg } from '../ui/catalogue.ts';
import { completeSignIn, imageOrigins, pageFor, renderLogin, renderSecondFactor, signUpOpen, type InteractionDeps } from './context.ts';
import { describeScopes } from './scope-descriptions.ts';
import { renderVerificationRequired } from './verification-required.ts';
import { renderSignUp } from './signup.ts';
import type { PendingInteraction } from '../oidc/interactions.ts';

export function showInteraction(deps: InteractionDeps) {
  const { interactions, users, csrf, render, loginState } = deps;
  return async (ctx: Context) => {
    const uid = String(ctx.params.uid);
    const it = await interactions.details(ctx, uid);
    if (it.prompt === 'login' || it.prompt === 'create') {
      let state = await loginState.get(uid);
      // Signed in in every way, waiting for the address to be confirmed: done once it is.
      if (state?.pending) {
        const user = await users.findActive(state.pending.accountId);
        if (!user) {
          await loginState.clear(uid);
          return renderLogin(deps, ctx, it, { status: 401 });
        }
        if (user.emailVerified) return completeSignIn(deps, ctx, it, state.pending);
        return renderVerificationRequired(deps, ctx, it, user);
      }
      // Signed in with a password only, and this client wants a second factor
      // the person already has: ask for that alone (step-up). A person
      // without one signs in with the password first: a session alone must
      // never be enough to enrol a factor (a stolen cookie would do).
      if (!state && it.accountId && it.reasons.length === 1 && it.reasons[0] === 'mfa_required' && (await users.hasSecondFactor(it.accountId))) {
        state = { accountId: it.accountId };
        await loginState.save(uid, state);
      }
      if (state) return renderSecondFactor(deps, ctx, it, state.accountId);
      // prompt=create: the app sent the person to sign up.
      if (it.prompt === 'create' && signUpOpen(deps)) return renderSignUp(deps, ctx, it, { email: it.loginHint ?? '' });
      const signedInAs = !it.loginHint && it.accountId ? (await users.findActive(it.accountId))?.email : undefined;
      return renderLogin(deps, ctx, it, { email: it.loginHint ?? signedInAs ?? '' });
    }
    if (it.prompt === 'consent' && it.accountId) {
      const user = await users.get(it.accountId);
      pageFor(ctx, user);
      // A device's approval lists everything it asks for, granted before or not.
      const nothingNew = !it.missingScopes.length && !Object.keys(it.missingResourceScopes).length;
      return render(ctx, 'consent', {
        uid,
        csrf: csrf.token(ctx),
        app: it.app,
        imageOrigins: imageOrigins(it),
        device: it.deviceFlow,
        email: user.email,
        scopes: it.deviceFlow && nothingNew ? describeScopes(it.requestedScopes) : describeScopes(it.missingScopes, it.missingResourceScopes),
      });
    }
    return render(ctx, 'error', { message: msg('error.unsupportedStep'), code: it.prompt, back: backToApp(it) }, 400);
  };
}

const NOTICES: Record<string, string> = {
  confirmed: 'login.noticeConfirmed',
  reset: 'login.noticeReset',
};

/** An error page's way back: the app's home page when it registered one, else ours. */
export function backToApp(it: PendingInteraction) {
  return it.app.clientUri && !it.app.own
    ? { href: it.app.clientUri, label: msg('common.backToApp', { app: it.app.name }) }
    : { href: '/', label: msg('common.backToStart') };
}

/** GET /interaction/:uid/signin — the sign-in page, also from the sign-up page or after a link. */
export function showSignIn(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const it = await deps.interactions.details(ctx, String(ctx.params.uid));
    if (it.prompt !== 'login' && it.prompt !== 'create') return redirectToInteraction(ctx, it.uid);
    const notice = NOTICES[String(ctx.query.notice ?? '')];
    await renderLogin(deps, ctx, it, { email: it.loginHint ?? '', notice: notice ? msg(notice) : undefined });
  };
}

function redirectToInteraction(ctx: Context, uid: string) {
  ctx.status = 303;
  ctx.redirect(`/interaction/${uid}`);
}
