// Everything a person does through a link sent to their address: signing
// up, confirming the address, resetting a forgotten password, accepting an
// operator's invitation. The rules:
//
// - Nobody learns from these forms whether an address has an account: the
//   same page answers either way and the address gets a message either way
//   (a confirmation link or "you already have an account"; a reset link or
//   "there is no account here"), with the same work done on every path —
//   one stored link per message, no password hashed on either — and mail
//   sent in the background, so neither the answer nor its timing differs.
// - A sign-up creates nothing until its link is used, and the password is
//   chosen on the page the link opens, by whoever can read that inbox: the
//   account is made there, already confirmed. Nobody can claim an address
//   they cannot read, nor pre-install a password on it by signing up with
//   someone else's address first (what the sign-up form asks is only the
//   address and a name).
// - Links that create an account stop working when creating accounts that
//   way is turned off: a sign-up link unless REGISTRATION=open, an
//   invitation when REGISTRATION=off.
// - Links are single-use, expiring and stored as keyed hashes
//   (src/services/links/link-tokens.ts); every message counts against the
//   recipient's budget (src/services/links/mail-throttle.ts).
import type { Config } from '../../config/env.ts';
import { AppError, conflict, invalidInput } from '../../errors.ts';
import { actorName, type AuditService, type RequestMeta } from '../admin/audit.ts';
import type { LinkRefusal, LinkTokenService } from './link-tokens.ts';
import type { LockoutService } from '../people/lockout.ts';
import type { MailThrottle } from './mail-throttle.ts';
import type { Mailer } from './mailer.ts';
import { passwordProblem } from '../people/password-strength.ts';
import { isEmailAddress, MAX_NAME_LENGTH, nameProblem, normalizeEmail, type UserService } from '../people/users.ts';
import type { Clock } from '../../clock.ts';
import { msg, type Message } from '../../ui/catalogue.ts';

/** `closed`: the link would create an account, and REGISTRATION no longer allows it. */
export type Refused = { ok: false; reason: LinkRefusal | 'exists' | 'disabled' | 'closed' };
/** What is wrong with a form's field, in words for the person (src/ui/catalogue.ts). */
export type FormProblem = { ok: false; field: 'email' | 'name' | 'password'; message: Message };

export interface AccountLinksDeps {
  users: UserService;
  links: LinkTokenService;
  mailer: Mailer;
  throttle: MailThrottle;
  audit: AuditService;
  lockout: LockoutService;
  config: Pick<Config, 'issuer' | 'registration' | 'linkTtl'>;
  clock: Clock;
}

export function createAccountLinkService({ users, links, mailer, throttle, audit, lockout, config, clock }: AccountLinksDeps) {
  const url = (path: string, token: string) => `${config.issuer}${path}?token=${token}`;
  const minutes = (seconds: number) => Math.round(seconds / 60);
  const hours = (seconds: number) => Math.round(seconds / 3600);

  /** `locale`: the recipient's language (their account's, or the page's for an address without one). */
  async function mail(
    to: string,
    template: Parameters<Mailer['dispatch']>[0]['template'],
    vars: Record<string, unknown>,
    locale: string | null | undefined,
  ): Promise<boolean> {
    if (!(await throttle.allow(to))) return false;
    mailer.dispatch({ to, template, vars: { issuer: config.issuer, ...vars }, locale });
    return true;
  }

  function checkName(name: string): FormProblem | undefined {
    if (!nameProblem(name)) return undefined;
    return {
      ok: false,
      field: 'name',
      message: name.length > MAX_NAME_LENGTH ? msg('signup.nameTooLong', { max: MAX_NAME_LENGTH }) : msg('signup.nameOneLine'),
    };
  }
  const badEmail: FormProblem = { ok: false, field: 'email', message: msg('signup.badEmail') };

  const service = {
    /**
     * A sign-up form was sent (an address and a name; the password is chosen
     * on the link's page). Answers a problem with the form, or ok — the same
     * ok, after the same work, whether or not the address already has an account.
     * `locale`: the page's language, for the message to an address without an account.
     */
    async signUp(input: { email: string; name: string }, meta: RequestMeta, locale?: string): Promise<{ ok: true } | FormProblem> {
      const email = normalizeEmail(input.email);
      const name = input.name.trim();
      if (!isEmailAddress(email)) return badEmail;
      const badName = checkName(name);
      if (badName) return badName;
      const existing = await users.findByEmail(email);
      if (existing) {
        // One stored link on every path (a disabled person's opens nothing and is not sent).
        const token = await links.create('reset', { email, ...(existing.disabled ? {} : { userId: existing.id }) }, config.linkTtl.passwordReset);
        const sent = await mail(
          email,
          'signup-exists',
          { resetUrl: existing.disabled ? undefined : url('/reset-password', token), resetMinutes: minutes(config.linkTtl.passwordReset) },
          existing.locale ?? locale,
        );
        await audit.record('signup_requested', { ...meta, userId: existing.id }, { existing: true, mailed: sent });
      } else {
        // The name only suggests one on the link's page; no password is known before it.
        const token = await links.create('signup', { email, data: { name, ...(locale ? { locale } : {}) } }, config.linkTtl.verification);
        // No name: whoever typed it may not own the address, and must not get to write to it.
        const sent = await mail(email, 'signup-confirm', { confirmUrl: url('/verify-email', token), hours: hours(config.linkTtl.verification) }, locale);
        await audit.record('signup_requested', meta, { existing: false, mailed: sent });
      }
      return { ok: true };
    },

    /** Sends a confirmation link to a person whose address is not confirmed yet. */
    async sendVerification(userId: string, meta: RequestMeta, locale?: string): Promise<boolean> {
      const user = await users.get(userId);
      if (user.emailVerified || user.disabled) return false;
      const token = await links.create('verify', { email: user.email, userId }, config.linkTtl.verification);
      const sent = await mail(
        user.email,
        'verify-email',
        { name: user.name, confirmUrl: url('/verify-email', token), hours: hours(config.linkTtl.verification) },
        user.locale ?? locale,
      );
      if (sent) await audit.record('email_verification_sent', { ...meta, userId });
      return sent;
    },

    /**
     * What a confirmation link is for (its page shows the address, and for a
     * sign-up asks for the password), without using it.
     */
    async peekConfirmation(token: string): Promise<{ ok: true; purpose: 'signup' | 'verify'; email: string; name: string } | Refused> {
      const found = await links.peek(token, ['signup', 'verify']);
      if (!found.ok) return found;
      const { link } = found;
      if (link.purpose === 'signup' && config.registration !== 'open') return { ok: false, reason: 'closed' };
      return {
        ok: true,
        purpose: link.purpose === 'signup' ? 'signup' : 'verify',
        email: link.email,
        name: typeof link.data.name === 'string' ? link.data.name : '',
      };
    },

    /**
     * Uses a confirmation link: a sign-up's account is created (confirmed)
     * with the name and password chosen on the link's page, or an existing
     * person's address is marked confirmed (`input` unused). A sign-up's
     * name and password are checked before the link is used: a weak password
     * does not spend it. The new account keeps the language the person used
     * (`locale`, the page's; else the sign-up page's).
     */
    async confirmEmail(
      token: string,
      input: { name?: string; password?: string; locale?: string },
      meta: RequestMeta,
    ): Promise<{ ok: true; userId: string; email: string; created: boolean } | Refused | FormProblem> {
      const target = await service.peekConfirmation(token);
      if (!target.ok) return target;
      if (target.purpose === 'signup') {
        const name = (input.name ?? '').trim();
        const badName = checkName(name);
        if (badName) return badName;
        const password = input.password ?? '';
        const weak = await passwordProblem(password, { email: target.email, name });
        if (weak) return { ok: false, field: 'password', message: weak };
        const passwordHash = await users.hashPassword(password);
        const used = await links.consume(token, 'signup');
        if (!used.ok) return used;
        try {
          const signedUpIn = typeof used.link.data.locale === 'string' ? used.link.data.locale : undefined;
          const user = await users.createWithHash({
            email: used.link.email,
            name: name || null,
            passwordHash,
            emailVerified: true,
            locale: input.locale ?? signedUpIn ?? null,
          });
          await audit.record('signup_completed', { ...meta, userId: user.id });
          await audit.record('email_verified', { ...meta, userId: user.id });
          return { ok: true, userId: user.id, email: user.email, created: true };
        } catch (err) {
          // Confirmed twice (two sign-ups for one address), or an operator was quicker.
          if (err instanceof AppError && err.code === 'conflict') return { ok: false, reason: 'exists' };
          throw err;
        }
      }
      const used = await links.consume(token, 'verify');
      if (!used.ok) return used;
      const { link } = used;
      const user = link.userId ? await users.findActive(link.userId) : undefined;
      // The address changed since the link was sent, or the person is gone: it confirms nothing.
      if (!user || user.email !== link.email) return { ok: false, reason: 'invalid' };
      if (await users.markEmailVerified(user.id)) await audit.record('email_verified', { ...meta, userId: user.id });
      return { ok: true, userId: user.id, email: user.email, created: false };
    },

    /** "Forgot your password?": the same answer, and a message, whether or not the address has an account. */
    async requestPasswordReset(emailInput: string, meta: RequestMeta, locale?: string): Promise<{ ok: true } | FormProblem> {
      const email = normalizeEmail(emailInput);
      if (!isEmailAddress(email)) return badEmail;
      const user = await users.findByEmail(email);
      const active = user && !user.disabled ? user : undefined;
      // A link is stored on both paths (for an unknown address it opens nothing and is never sent).
      const token = await links.create('reset', { email, ...(active ? { userId: active.id } : {}) }, config.linkTtl.passwordReset);
      const sent = active
        ? await mail(
            email,
            'reset-password',
            { name: active.name, resetUrl: url('/reset-password', token), minutes: minutes(config.linkTtl.passwordReset) },
            active.locale ?? locale,
          )
        : await mail(email, 'reset-unknown', { signupOpen: config.registration === 'open', signupUrl: `${config.issuer}/signup` }, locale);
      await audit.record('password_reset_requested', { ...meta, ...(user ? { userId: user.id } : {}) }, { known: Boolean(active), mailed: sent });
      return { ok: true };
    },

    /** The account a reset link is for, to show its page. */
    async peekReset(token: string): Promise<{ ok: true; email: string; name: string | null } | Refused> {
      const found = await links.peek(token, 'reset');
      if (!found.ok) return found;
      const user = found.link.userId ? await users.findActive(found.link.userId) : undefined;
      if (!user || user.email !== found.link.email) return { ok: false, reason: 'invalid' };
      return { ok: true, email: user.email, name: user.name };
    },

    /**
     * Sets the new password from a reset link. Checked before the link is
     * used (a weak password does not spend it); then every session, grant
     * and stored token of the person ends, their API keys are revoked, and
     * their other reset links stop working.
     */
    async resetPassword(token: string, password: string, meta: RequestMeta): Promise<{ ok: true; userId: string; email: string } | Refused | FormProblem> {
      const target = await service.peekReset(token);
      if (!target.ok) return target;
      const weak = await passwordProblem(password, target);
      if (weak) return { ok: false, field: 'password', message: weak };
      const used = await links.consume(token, 'reset');
      if (!used.ok) return used;
      const user = used.link.userId ? await users.findActive(used.link.userId) : undefined;
      if (!user) return { ok: false, reason: 'invalid' };
      const { apiKeysRevoked } = await users.resetPassword(user.id, await users.hashPassword(password));
      await links.revokeFor(user.id, 'reset');
      // The failures counted so far were against the old password; a lock in force stays.
      await lockout.reset(lockout.keyFor(user.email));
      await audit.record('password_reset', { ...meta, userId: user.id }, { api_keys_revoked: apiKeysRevoked });
      return { ok: true, userId: user.id, email: user.email };
    },

    /** An operator invites someone: a link to set their own password. Shown (or mailed) once. */
    async invite(input: { email: string; name?: string }, by: RequestMeta): Promise<{ url: string; email: string; expiresAt: Date }> {
      if (config.registration === 'off') throw invalidInput('invitations are off: set REGISTRATION=invite (or open)');
      const email = normalizeEmail(input.email);
      if (!isEmailAddress(email)) throw invalidInput(`"${input.email}" is not an email address`);
      const name = (input.name ?? '').trim();
      const bad = nameProblem(name);
      if (bad) throw invalidInput(`--name ${bad}`);
      if (await users.findByEmail(email)) throw conflict(`a user with email ${email} already exists`);
      const token = await links.create('invite', { email, data: { name } }, config.linkTtl.invitation);
      await audit.record('invitation_created', by, { email, by: by.actor ? actorName(by.actor) : 'admin-cli' });
      return { url: url('/invitation', token), email, expiresAt: new Date(clock.now() + config.linkTtl.invitation * 1000) };
    },

    /**
     * A link for an existing, enabled person to choose a new password (the
     * reset page), made by an administrator to hand over; it lasts as long as
     * an invitation does, and works once. The caller audits it.
     */
    async passwordLink(userId: string): Promise<{ url: string; email: string; expiresAt: Date }> {
      const user = await users.get(userId);
      if (user.disabled) throw conflict(`${user.email} is disabled; enable them first`);
      const token = await links.create('reset', { email: user.email, userId: user.id }, config.linkTtl.invitation);
      return { url: url('/reset-password', token), email: user.email, expiresAt: new Date(clock.now() + config.linkTtl.invitation * 1000) };
    },

    /** Mails an invitation's link (waits: the CLI says whether it went). */
    async mailInvitation(invitation: { url: string; email: string }, name?: string): Promise<void> {
      await mailer.send({
        to: invitation.email,
        template: 'invitation',
        vars: { issuer: config.issuer, name, inviteUrl: invitation.url, days: Math.round(config.linkTtl.invitation / 86400) },
      });
    },

    async peekInvitation(token: string): Promise<{ ok: true; email: string; name: string } | Refused> {
      const found = await links.peek(token, 'invite');
      if (!found.ok) return found;
      // Sent before REGISTRATION=off: it creates no account any more.
      if (config.registration === 'off') return { ok: false, reason: 'closed' };
      return { ok: true, email: found.link.email, name: typeof found.link.data.name === 'string' ? found.link.data.name : '' };
    },

    /** The invited person chose a password: their account is created, address confirmed. */
    async acceptInvitation(
      token: string,
      input: { name: string; password: string; locale?: string },
      meta: RequestMeta,
    ): Promise<{ ok: true; userId: string; email: string } | Refused | FormProblem> {
      const invitation = await service.peekInvitation(token);
      if (!invitation.ok) return invitation;
      const name = input.name.trim();
      const badName = checkName(name);
      if (badName) return badName;
      const weak = await passwordProblem(input.password, { email: invitation.email, name });
      if (weak) return { ok: false, field: 'password', message: weak };
      const passwordHash = await users.hashPassword(input.password);
      const used = await links.consume(token, 'invite');
      if (!used.ok) return used;
      try {
        const user = await users.createWithHash({ email: invitation.email, name, passwordHash, emailVerified: true, locale: input.locale ?? null });
        await audit.record('invitation_accepted', { ...meta, userId: user.id });
        return { ok: true, userId: user.id, email: user.email };
      } catch (err) {
        if (err instanceof AppError && err.code === 'conflict') return { ok: false, reason: 'exists' };
        throw err;
      }
    },
  };
  return service;
}

export type AccountLinkService = ReturnType<typeof createAccountLinkService>;
