// The import scenario (issue 18): `user import` of 10,000 and 100,000 people
// from a JSON Lines file, as an operator runs it, on a fresh database; then
// the same 100,000-line file again with --on-conflict skip, which must change
// nothing. Reports wall time, CPU time (utime + stime of the CLI process, the
// honest figure on a shared machine) and peak RSS of each run: memory is flat
// when the 100,000-person run peaks where the 10,000-person one does.
//
//   npx tsx bench/import.ts [--db sqlite|postgres] [--people 100000]
//
// PostgreSQL needs TEST_POSTGRES_URL (an admin connection; a database is
// created and dropped). The hashes are made once by Debian's passlib and
// argon2-cffi (as products make them) and repeated: no hashing happens at
// import time, which is the point (they are parsed, never verified).
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { repoRoot } from './servers.ts';
import { CLK_TCK } from './proc-stats.ts';
import { ensureBuilt } from '../scripts/build.mjs';

const { values } = parseArgs({ options: { db: { type: 'string', default: 'sqlite' }, people: { type: 'string', default: '100000' } } });
const total = Number(values.people);

function hashes(): string[] {
  const out = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      `
import json
from passlib.hash import bcrypt, django_pbkdf2_sha256, scrypt, pbkdf2_sha512
import argon2
pw = 'bench passphrase'
print(json.dumps([bcrypt.using(ident='2y', rounds=10).hash(pw), argon2.PasswordHasher().hash(pw), ` +
        `django_pbkdf2_sha256.hash(pw), scrypt.hash(pw), pbkdf2_sha512.hash(pw)]))`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

async function writePeople(file: string, count: number, pool: string[]): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < count; i++) {
    const person: Record<string, unknown> = {
      email: `person${i}@bench.example`,
      id: `legacy|${i}`,
      name: `Person ${i}`,
      email_verified: i % 3 !== 0,
      created_at: '2021-03-04T05:06:07Z',
    };
    if (i % 10 !== 9) person.password_hash = pool[i % pool.length];
    if (i % 20 === 0) person.totp = { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' };
    if (i % 50 === 0) person.roles = ['staff'];
    if (!out.write(`${JSON.stringify(person)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

interface Run {
  label: string;
  wallS: number;
  cpuS: number;
  peakRssMb: number;
  report: Record<string, unknown>;
}

/** Runs the CLI (the latchkey-admin bin under node itself, no npm in between, so the pid is the importer's) and samples it from /proc. */
function runCli(label: string, env: Record<string, string>, args: string[]): Promise<Run> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'latchkey-admin.mjs'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    let cpu = 0;
    const sample = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peak = Math.max(peak, Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024);
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpu = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 100);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => {
      clearInterval(timer);
      try {
        resolve({
          label,
          wallS: (performance.now() - started) / 1000,
          cpuS: cpu / 1000,
          peakRssMb: peak,
          report: JSON.parse(stdout) as Record<string, unknown>,
        });
      } catch {
        reject(new Error(`${label}: ${stderr || stdout}`));
      }
    });
  });
}

async function database(dir: string, name: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (values.db === 'sqlite') return { url: `file:${join(dir, `${name}.db`)}`, drop: async () => {} };
  const admin = process.env.TEST_POSTGRES_URL;
  if (!admin) throw new Error('--db postgres needs TEST_POSTGRES_URL');
  const db = `latchkey_bench_import_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${db}`);
  const url = new URL(admin);
  url.pathname = `/${db}`;
  return { url: url.href, drop: () => run(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-import-'));
const pool = hashes();
const small = Math.max(1, Math.round(total / 10));
await writePeople(join(dir, 'small.jsonl'), small, pool);
await writePeople(join(dir, 'people.jsonl'), total, pool);
const runs: Run[] = [];
const counts: Record<string, number> = {};
for (const [name, file, people] of [
  ['small', 'small.jsonl', small],
  ['full', 'people.jsonl', total],
] as const) {
  const db = await database(dir, name);
  const env = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DATA_DIR: join(dir, name),
    LATCHKEY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ISSUER: 'https://id.bench.example',
    TRUST_PROXY: 'true',
    LOG_LEVEL: 'warn',
  };
  mkdirSync(env.DATA_DIR, { recursive: true });
  try {
    runs.push(await runCli(`${people.toLocaleString('en')} people, fresh database`, env, ['user', 'import', '--file', join(dir, file), '--json']));
    if (name === 'full') {
      runs.push(
        await runCli(`the same ${people.toLocaleString('en')} again, --on-conflict skip`, env, [
          'user',
          'import',
          '--file',
          join(dir, file),
          '--on-conflict',
          'skip',
          '--json',
        ]),
      );
      counts.people = people;
    }
  } finally {
    await db.drop();
  }
}

const rows = runs.map(
  (r) =>
    `| ${r.label} | ${r.wallS.toFixed(1)} | ${r.cpuS.toFixed(1)} | ${Math.round(r.peakRssMb)} | ` +
    `${r.report.created} / ${r.report.updated} / ${r.report.skipped} / ${r.report.failed} |`,
);
const md = [
  `## import (${values.db}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}`,
  '',
  '| run | wall s | CPU s | peak RSS MB | created / updated / skipped / failed |',
  '| --- | ---: | ---: | ---: | --- |',
  ...rows,
  '',
].join('\n');
console.log(md);
mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench', 'results', `import-${values.db}.md`), `${md}\n`);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
