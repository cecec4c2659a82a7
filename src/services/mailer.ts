// Mail to people: plain text plus simple HTML, both from nunjucks templates
// under views/mail/ (`<name>.txt.njk` starts with a `Subject:` line). Sent
// with nodemailer to SMTP_URL; without one (development and tests only,
// see src/config/env.ts) each message is written to the log instead —
// links included, since the log is then the only way to read them.
//
// Pages hand messages over with `dispatch` and do not wait for the SMTP
// server: a page answers in the same time whichever message it sent (or
// whether the server is slow), and nobody waits on mail to be told "check
// your inbox". `flush` waits for messages in flight (shutdown, tests).
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import nunjucks from 'nunjucks';
import { projectRoot } from '../db/database.ts';
import type { Logger } from '../logger.ts';

export type MailTemplate = 'signup-confirm' | 'signup-exists' | 'verify-email' | 'reset-password' | 'reset-unknown' | 'invitation';

export interface MailMessage {
  to: string;
  template: MailTemplate;
  vars: Record<string, unknown>;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function createMailRenderer(product = 'Latchkey') {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(join(projectRoot, 'views', 'mail')), { autoescape: true, throwOnUndefined: false });
  const plain = new nunjucks.Environment(new nunjucks.FileSystemLoader(join(projectRoot, 'views', 'mail')), { autoescape: false, throwOnUndefined: false });
  return (template: MailTemplate, vars: Record<string, unknown>): RenderedMail => {
    const all = { product, ...vars };
    const [first, ...rest] = plain.render(`${template}.txt.njk`, all).split('\n');
    if (!first?.startsWith('Subject: ')) throw new Error(`views/mail/${template}.txt.njk must start with a Subject: line`);
    return { subject: first.slice(9).trim(), text: rest.join('\n').trim() + '\n', html: env.render(`${template}.html.njk`, all) };
  };
}

export function createMailer(opts: { smtpUrl: string | undefined; from: string }, log: Logger) {
  const render = createMailRenderer();
  const transport = opts.smtpUrl ? nodemailer.createTransport(opts.smtpUrl) : undefined;
  const inFlight = new Set<Promise<void>>();

  async function send(message: MailMessage): Promise<void> {
    const mail = render(message.template, message.vars);
    if (!transport) {
      // Development only (production refuses mail features without SMTP_URL).
      log.info({ mail: { to: message.to, subject: mail.subject, text: mail.text } }, 'mail (SMTP_URL is unset: logged instead of sent)');
      return;
    }
    // An address object: nodemailer takes it as one mailbox instead of parsing a list or a display name out of it.
    await transport.sendMail({ from: opts.from, to: { name: '', address: message.to }, subject: mail.subject, text: mail.text, html: mail.html });
  }

  return {
    /** Sends and waits (the admin CLI). */
    send,

    /** Sends in the background; a failure is logged without the message or its recipient. */
    dispatch(message: MailMessage): void {
      const job = send(message).catch((err: Error) => {
        log.error({ template: message.template, err: { message: err.message, code: (err as { code?: string }).code } }, 'mail could not be sent');
      });
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
    },

    /** Waits for the messages handed over so far. */
    async flush(): Promise<void> {
      await Promise.all([...inFlight]);
    },

    close(): void {
      transport?.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
