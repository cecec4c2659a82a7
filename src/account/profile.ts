// GET  /account/profile — the person's name, address and language
// POST /account/profile — saves the name and the language (of their pages and mail)
// POST /account/verify-email — a new link to confirm the address
import type { Context } from 'koa';
import { requestMeta } from '../middleware/koa-request-meta.ts';
import { nameProblem, MAX_NAME_LENGTH } from '../services/people/users.ts';
import { msg } from '../ui/catalogue.ts';
import { accountOf, backWith, failWith, field, meta, renderAccount, userOf, type AccountDeps } from './context.ts';

async function renderProfile(deps: AccountDeps, ctx: Context, form?: { name: string; language: string }) {
  const user = userOf(ctx);
  await renderAccount(deps, ctx, 'profile', 'profile', {
    form_name: form?.name ?? user.name ?? '',
    languageOptions: deps.languages.map((l) => ({ value: l.tag, label: l.name, lang: l.tag })),
    selectedLanguage: form?.language ?? user.locale ?? deps.languageOf(ctx),
    canConfirmEmail: !user.emailVerified && deps.settings.mailEnabled,
  });
}

export function showProfile(deps: AccountDeps) {
  return (ctx: Context) => renderProfile(deps, ctx);
}

export function saveProfile(deps: AccountDeps) {
  return async (ctx: Context) => {
    const name = field(ctx, 'name').trim();
    const language = field(ctx, 'language');
    const errors = [];
    if (nameProblem(name))
      errors.push({ field: 'name', message: name.length > MAX_NAME_LENGTH ? msg('signup.nameTooLong', { max: MAX_NAME_LENGTH }) : msg('signup.nameOneLine') });
    if (!deps.languages.some((l) => l.tag === language)) errors.push({ field: 'language', message: msg('profile.badLanguage') });
    if (errors.length) {
      failWith(ctx, errors);
      return renderProfile(deps, ctx, { name, language });
    }
    await deps.users.updateProfile(accountOf(ctx), { name: name || null, locale: language });
    await deps.audit.record('profile_changed', meta(ctx), { locale: language });
    backWith(ctx, 'profile', 'profile-saved');
  };
}

export function sendConfirmation({ accountLinks, languageOf }: AccountDeps) {
  return async (ctx: Context) => {
    await accountLinks.sendVerification(accountOf(ctx), requestMeta(ctx), languageOf(ctx));
    backWith(ctx, 'profile', 'verification-sent');
  };
}
