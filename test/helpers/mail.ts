// A real SMTP server in the test process (smtp-server, by nodemailer's
// authors), on 127.0.0.1: the server under test sends to it over SMTP, and
// tests read what arrived, parsed by mailparser.
import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailCatcher {
  /** SMTP_URL for the server under test. */
  url: string;
  messages: ReceivedMail[];
  /** Every envelope recipient (RCPT TO) the server was given, lower case: where mail really went. */
  recipients: string[];
  /** The messages to `to` (waits until `count` have arrived). */
  waitFor(to: string, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Waits a little and returns every message to `to` (for "nothing more was sent"). */
  settle(to: string, ms?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** `rejectAll`: answer every RCPT TO with 550 naming the address, as a real server does for a mailbox it does not know. */
export async function startMailCatcher(opts: { rejectAll?: boolean } = {}): Promise<MailCatcher> {
  const messages: ReceivedMail[] = [];
  const recipients: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (!opts.rejectAll) return callback();
      callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      recipients.push(...session.envelope.rcptTo.map((r) => r.address.toLowerCase()));
      simpleParser(stream).then(
        (mail) => {
          const to = Array.isArray(mail.to) ? mail.to.flatMap((a) => a.value) : (mail.to?.value ?? []);
          for (const address of to) {
            messages.push({
              to: String(address.address).toLowerCase(),
              from: mail.from?.text ?? '',
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
            });
          }
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const to = (address: string) => messages.filter((m) => m.to === address.toLowerCase());
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    recipients,
    async waitFor(address, count = 1, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (to(address).length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} message(s) to ${address}, got ${to(address).length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return to(address);
    },
    async settle(address, ms = 500) {
      await new Promise((r) => setTimeout(r, ms));
      return to(address);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text that goes to `path` on the server. */
export function linkIn(mail: ReceivedMail, path: string): string {
  const m = mail.text.match(new RegExp(`https?://\\S+${path.replace(/[/?]/g, '\\$&')}\\S*`));
  if (!m) throw new Error(`no ${path} link in: ${mail.text}`);
  return m[0];
}
