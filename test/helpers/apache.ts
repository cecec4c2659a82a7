// Stock Apache as a resource server in front of a static file: Debian's
// apache2 with mod_oauth2 (liboauth2), in a private ServerRoot on a free
// loopback port, in the foreground, stopped by the test that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './server.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

/** Why Apache with mod_oauth2 cannot run here, or undefined when it can. */
export function apacheMissing(): string | undefined {
  if (!existsSync(APACHE)) return `${APACHE} is not installed (apt-get install apache2 libapache2-mod-oauth2)`;
  if (!existsSync(join(MODULES, 'mod_oauth2.so'))) return `${MODULES}/mod_oauth2.so is not installed (apt-get install libapache2-mod-oauth2)`;
  return undefined;
}

export interface Apache {
  url: string;
  /** Apache's error log so far (for assertion messages). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Starts Apache serving `ok.txt` under each of `locations` (path → directives inside its <Location>).
 * `head`: server-wide directives (another module and its settings, e.g. mod_auth_openidc); `port`: one chosen beforehand.
 */
export async function startApache(locations: Record<string, string>, opts: { port?: number; head?: string[] } = {}): Promise<Apache> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-apache-'));
  const port = opts.port ?? (await freePort());
  const htdocs = join(dir, 'htdocs');
  for (const path of Object.keys(locations)) {
    mkdirSync(join(htdocs, path), { recursive: true });
    writeFileSync(join(htdocs, path, 'ok.txt'), 'protected content\n');
  }
  // Workers run as www-data when Apache starts as root: they must read the documents.
  chmodSync(dir, 0o755);
  const conf = [
    `ServerRoot ${dir}`,
    `ServerName 127.0.0.1`,
    `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn oauth2:info',
    ...(process.getuid?.() === 0 ? ['User www-data', 'Group www-data'] : []),
    ...['mpm_event', 'authz_core', 'authz_user', 'authn_core', 'headers'].map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
    `LoadModule oauth2_module ${MODULES}/mod_oauth2.so`,
    ...(opts.head ?? []),
    `DocumentRoot ${htdocs}`,
    `<Directory ${htdocs}>`,
    '  Require all granted',
    '</Directory>',
    // Encrypts mod_oauth2's state and cache; any value will do for a test.
    `OAuth2CryptoPassphrase ${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
    ...Object.entries(locations).flatMap(([path, directives]) => [`<Location /${path}>`, directives, '</Location>']),
  ].join('\n');
  writeFileSync(join(dir, 'httpd.conf'), conf);
  const child: ChildProcess = spawn(APACHE, ['-d', dir, '-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const errorLog = () => {
    try {
      return stderr + readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return stderr;
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`apache exited: ${errorLog()}`);
    try {
      await fetch(url);
      break;
    } catch {
      if (Date.now() > until) throw new Error(`apache did not start: ${errorLog()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
