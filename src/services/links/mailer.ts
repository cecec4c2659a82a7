// Mail to people: plain text plus simple HTML, both from nunjucks templates
// under views/mail/ (or the theme's mail/), in the recipient's language, the
// subject from the catalogue (`mail.<template>.subject`). Sent
// with nodemailer to SMTP_URL; without one (development and tests only,
// see src/config/env.ts) each message is written to the log instead —
// links included, since the log is then the only way to read them.
//
// Pages hand messages over with `dispatch` and do not wait for the SMTP
// server: a page answers in the same time whichever message it sent (or
// whether the server is slow), and nobody waits on mail to be told "check
// your inbox". `flush` waits for messages in flight (shutdown, tests).
//
// The templates and catalogue come from `ui`, asked for with the first
// message: the admin CLI loads them only for a command that sends mail.
import type { Transporter } from 'nodemailer';
import type { Logger } from '../../logger.ts';
import type { Params } from '../../ui/catalogue.ts';
import type { Ui } from '../../ui/ui.ts';

export type MailTemplate = 'signup-confirm' | 'signup-exists' | 'verify-email' | 'reset-password' | 'reset-unknown' | 'invitation';

export interface MailMessage {
  to: string;
  template: MailTemplate;
  vars: Record<string, unknown>;
  /** The recipient's language (saved on their account, or the page's); DEFAULT_LOCALE when unset or unknown. */
  locale?: string | null;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

export function createMailRenderer(ui: Ui) {
  const { catalogue } = ui;
  return (template: MailTemplate, vars: Record<string, unknown>, locale?: string | null): RenderedMail => {
    const lang = locale && catalogue.has(locale) ? locale : ui.defaultLocale;
    const all = { ...vars, lang, dir: catalogue.language(lang).dir, brand: ui.brand, accent: ui.accent };
    const subject = catalogue.text(lang, `mail.${camel(template)}.subject`, { brand: ui.brand.name });
    const text = ui.mail.text.render(`${template}.txt.njk`, { ...all, t: (key: string, params?: Params) => catalogue.text(lang, key, params) });
    const html = ui.mail.html.render(`${template}.html.njk`, {
      ...all,
      subject,
      t: (key: string, params?: Params) => ui.safe(catalogue.html(lang, key, params)),
    });
    return { subject, text: `${text.replace(/\n{3,}/g, '\n\n').trim()}\n`, html };
  };
}

/** What a failed send may log: nodemailer's error kind, the SMTP reply code and the command it answered. */
function smtpStatus(err: { code?: unknown; responseCode?: unknown; command?: unknown }) {
  const word = (v: unknown) => (typeof v === 'string' && /^[A-Z][A-Z0-9 _-]{0,30}$/i.test(v) ? v : undefined);
  return {
    // Not `code`: the logger redacts that key everywhere (authorization codes).
    error: word(err.code),
    reply: typeof err.responseCode === 'number' ? err.responseCode : undefined,
    command: word(err.command),
  };
}

export function createMailer(opts: { smtpUrl: string | undefined; from: string }, log: Logger, ui: () => Promise<Ui>) {
  let renderer: Promise<ReturnType<typeof createMailRenderer>> | undefined;
  // nodemailer is loaded with the first message: most processes (the CLI, a server between sign-ups) send none.
  let transport: Promise<Transporter> | undefined;
  const transporter = (smtpUrl: string) => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl)));
  const inFlight = new Set<Promise<void>>();

  const rendererOnce = () => (renderer ??= ui().then(createMailRenderer));

  async function send(message: MailMessage): Promise<void> {
    const render = await rendererOnce();
    const mail = render(message.template, message.vars, message.locale);
    if (!opts.smtpUrl) {
      // Development only (production refuses mail features without SMTP_URL).
      log.info({ mail: { to: message.to, subject: mail.subject, text: mail.text } }, 'mail (SMTP_URL is unset: logged instead of sent)');
      return;
    }
    // An address object: nodemailer takes it as one mailbox instead of parsing a list or a display name out of it.
    await (await transporter(opts.smtpUrl)).sendMail({
      from: opts.from,
      to: { name: '', address: message.to },
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  }

  return {
    /** Sends and waits (the admin CLI). */
    send,

    /** Loads the templates now: the CLI, before a change whose mail would otherwise fail after it (a theme that cannot be used). */
    async prepare(): Promise<void> {
      await rendererOnce();
    },

    /**
     * Sends in the background. A failure is logged with the SMTP status only:
     * the error's text names the recipient ("550 <ada@…> rejected"), and the
     * template would say which answer was sent (a reset link, or "no account
     * here") — both are what the page's identical answer keeps from anyone.
     */
    dispatch(message: MailMessage): void {
      const job = send(message).catch((err: Error & { code?: unknown; responseCode?: unknown; command?: unknown }) => {
        log.error({ smtp: smtpStatus(err) }, 'mail could not be sent');
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    },

    /** Waits for the messages handed over so far. */
    async flush(): Promise<void> {
      await Promise.all([...inFlight]);
    },

    close(): void {
      void transport?.then((t) => t.close());
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
