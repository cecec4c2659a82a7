// What `npm start` runs: the esbuild bundle of scripts/build.mjs. The server
// started from it finds what it reads from disk (migrations, templates,
// assets) wherever its chunks sit, and the bundle holds none of what a
// production process has no use for.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startNodeFlags } from '../../scripts/build.mjs';
import { ensureBuilt, repoRoot, startServerProcess, type LiveServer } from '../helpers/cli-under-load.ts';

/** What detect-libc reads first: whether this system's /usr/bin/ldd is glibc's. */
function lddSaysGlibc(): boolean {
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('GLIBC');
  } catch {
    return false;
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('the production build (dist/)', () => {
  let server: LiveServer;
  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server?.stop();
  });

  it('starts on a fresh database, migrating it, and serves its pages with their templates and assets', async () => {
    const discovery = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    assert.equal(discovery.issuer, server.issuer);
    const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: unknown[] };
    assert.ok(jwks.keys.length >= 2, 'signing keys generated into the migrated database');
    // /account sends a stranger to sign in: a page rendered from views/ and the catalogue.
    const cookies = new Map<string, string>();
    let url = `${server.issuer}/account`;
    let page = await fetch(url, { redirect: 'manual' });
    for (let hops = 0; page.status >= 300 && page.status < 400 && hops < 5; hops++) {
      for (const c of page.headers.getSetCookie()) cookies.set(c.split('=')[0]!, c.split(';')[0]!);
      url = new URL(page.headers.get('location')!, url).href;
      page = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies.values()].join('; ') } });
    }
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<title>Sign in · Latchkey<\/title>/);
    const css = await fetch(`${server.issuer}/assets/style.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  it('bundles no remote transport of the SQLite driver and nothing of the build tools', () => {
    ensureBuilt();
    const files = filesUnder(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js'));
    assert.ok(files.some((f) => f.endsWith(join('dist', 'server.js'))));
    // esbuild names each bundled module's source path in a comment above its code, hoisted or nested.
    const unwanted = /^\/\/ (?:\S*\/)?node_modules\/(@libsql\/hrana-client|ws|tsx|typescript|prisma)\//m;
    for (const file of files) {
      const hit = readFileSync(file, 'utf8').match(unwanted);
      assert.equal(hit, null, `${file} bundles ${hit?.[1]}`);
    }
  });

  it('gives each request its provider context as a value, not through an accessor that kept all its objects until a full collection', () => {
    ensureBuilt();
    const bundle = filesUnder(join(repoRoot, 'dist'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    assert.match(bundle, /Object\.defineProperty\((\w+), "oidc", \{ value: new this\.OIDCContext\(\1\) \}\);/);
    assert.doesNotMatch(bundle, /defineProperty\(\w+, "oidc", \{\s*get:/, "oidc-provider's per-request getter is still in the bundle");
  });

  it('every file of the bundle is ASCII, so that V8 keeps its source at one byte per character', () => {
    ensureBuilt();
    const files = filesUnder(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js'));
    for (const file of files) {
      const at = readFileSync(file, 'utf8').search(/[\u0080-\u{10ffff}]/u);
      assert.equal(at, -1, `${file} has a character outside ASCII at offset ${at}: its whole source is kept at two bytes per character`);
    }
  });

  it("the server `npm start` runs has npm start's node flags, and with them a young generation of 16 MB at most", () => {
    // The probe runs inside the server's process, before the server: it reports the process's node flags,
    // then allocates what a burst of requests does (short-lived objects, a few surviving each collection)
    // until the young generation stops growing. The size alone would pass without the flag on a host
    // small enough for V8 to choose 16 MB or less itself (2 GB on Node 20, 512 MB on Node 24); so the flags first.
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-young-'));
    try {
      const probe = join(dir, 'probe.mjs');
      writeFileSync(
        probe,
        `import v8 from 'node:v8';
if (process.argv[1]?.endsWith('server.js')) {
  process.stdout.write('node flags: ' + JSON.stringify(process.execArgv) + '\\n');
  let kept = [];
  for (let i = 0; i < 3e6; i++) { kept.push({ i, s: 'x' + i }); if (kept.length > 50000) kept = []; }
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stdout.write('young generation: ' + young.space_size + '\\n');
  process.exit(0);
}
`,
      );
      const npm = spawnSync('npm', ['start', '--silent'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, NODE_OPTIONS: `--import=${pathToFileURL(probe).href}` },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const flags = /node flags: (.*)/.exec(npm.stdout);
      assert.ok(flags, `npm start ran the probe (exit ${npm.status}): ${npm.stdout}${npm.stderr}`);
      const execArgv = JSON.parse(flags[1] ?? '[]') as string[];
      const startFlags = startNodeFlags();
      assert.ok(startFlags.length > 0, 'the start script gives node its sizing flags');
      for (const flag of startFlags) assert.ok(execArgv.includes(flag), `the server runs without ${flag}: ${flags[1]}`);
      const young = /young generation: (\d+)/.exec(npm.stdout);
      assert.ok(young, npm.stdout);
      assert.ok(Number(young[1]) <= 16 * 2 ** 20, `the young generation grew to ${Number(young[1]) / 2 ** 20} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes oidc-provider's list formatters at first use, loads none of Node's modules it does not use, and a refusal still names its list", async () => {
    // The probe runs inside the server's process: it records where each Intl.ListFormat is made (one
    // holds 7 MB of ICU's list and locale data) and, as the process exits, which of Node's modules were
    // loaded: undici (Node's fetch, loaded by an ESM import of node:http reading its WebSocket export,
    // Node 22 and later, and by the PostgreSQL driver on Node 20), zlib, https and tls (API-key
    // checksums, client metadata documents, prom-client's push gateway, destroy's zlib check), and the
    // diagnostic report libsql's loader asked for.
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-lazy-'));
    let probed: LiveServer | undefined;
    let stopped = false;
    try {
      const report = join(dir, 'report.json');
      const probe = join(dir, 'probe.cjs');
      writeFileSync(
        probe,
        `const { writeFileSync } = require('node:fs');
const made = [];
const ListFormat = Intl.ListFormat;
Intl.ListFormat = class extends ListFormat {
  constructor(...args) {
    super(...args);
    made.push(new Error().stack.split('\\n').slice(2).join(' | '));
  }
};
process.on('exit', () => writeFileSync(${JSON.stringify(report)}, JSON.stringify({ made, modules: process.moduleLoadList })));
`,
      );
      // On the suite's database: on PostgreSQL under Node 20 the driver's check for a Cloudflare worker
      // made a fetch Response, which loaded undici (pgStreamsForNode in scripts/build.mjs).
      probed = await startServerProcess({ NODE_OPTIONS: `--require=${probe}` });
      // Twice: the second refusal must reuse the formatter the first one made.
      for (let i = 0; i < 2; i++) {
        const page = await fetch(`${probed.issuer}/auth?client_id=a&client_id=b&scope=openid&scope=email`);
        assert.equal(page.status, 400);
        assert.match(await page.text(), /&#39;client_id&#39; and &#39;scope&#39; parameters must not be provided twice/);
      }
      stopped = true;
      assert.equal(await probed.stop(), 0, probed.output());
      const { made, modules } = JSON.parse(readFileSync(report, 'utf8')) as { made: string[]; modules: string[] };
      assert.equal(made.length, 1, `one Intl.ListFormat, made for the first refusal and kept: ${made.length} made`);
      assert.match(made[0]!, /formatList/, `the Intl.ListFormat was made outside a list's formatting: ${made[0]}`);
      assert.ok(modules.includes('NativeModule http'), 'the report lists the modules the server loaded');
      assert.ok(!modules.includes('NativeModule internal/deps/undici/undici'), 'the server loaded undici');
      // libsql's loader asks for a diagnostic report only where /usr/bin/ldd cannot say the system is glibc's.
      const unusedModules = ['zlib', 'https', 'tls', 'dns/promises', ...(lddSaysGlibc() ? ['internal/process/report'] : [])];
      for (const unused of unusedModules) {
        assert.ok(!modules.includes(`NativeModule ${unused}`), `the server loaded ${unused}`);
      }
    } finally {
      if (probed && !stopped) await probed.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("starts without what only some requests use: the admin API, importers, zod's other languages, unused limiters, a second MIME list, pg", async () => {
    // A module hook (module.register: a thread of its own) writes down every file the server's
    // process loads; each chunk of the bundle names, in comments, the modules it holds.
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-loaded-'));
    let probed: LiveServer | undefined;
    try {
      const list = join(dir, 'loaded.txt');
      const hooks = join(dir, 'hooks.mjs');
      writeFileSync(
        hooks,
        `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(list)}, url + '\\n');
  return next(url, context);
}
`,
      );
      const register = join(dir, 'register.mjs');
      writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
      probed = await startServerProcess({ NODE_OPTIONS: `--import=${pathToFileURL(register).href}`, DATABASE_URL: `file:${join(dir, 'latchkey.db')}` });
      const bundled = () => {
        const chunks = new Set(
          readFileSync(list, 'utf8')
            .split('\n')
            .filter((url) => url.includes('/dist/')),
        );
        const text = [...chunks].map((url) => readFileSync(fileURLToPath(url), 'utf8')).join('\n');
        // From the first src/ or node_modules/ on: a nested copy keeps its own path.
        return new Set([...text.matchAll(/^\/\/ (?:\S*?\/)?((?:src|node_modules)\/\S+)$/gm)].map((m) => m[1] ?? ''));
      };
      assert.equal((await fetch(`${probed.issuer}/.well-known/openid-configuration`)).status, 200);
      const atStart = bundled();
      assert.ok(atStart.has('src/app.ts'), 'the hook saw the bundle load');
      for (const unused of [
        'src/api/admin/index.ts',
        'src/api/admin/schemas.ts',
        'src/services/config/config-file.ts',
        'src/services/people/user-import.ts',
        'src/services/machines/client-import.ts',
        'src/services/api-keys/api-key-import.ts',
        'node_modules/zod/v4/locales/de.js',
        'node_modules/rate-limiter-flexible/lib/RateLimiterRedis.js',
        // On SQLite: PostgreSQL's driver is bundled, in a chunk of its own.
        'node_modules/pg/lib/index.js',
      ]) {
        assert.ok(!atStart.has(unused), `the server loaded ${unused} at start`);
      }
      const mimeDatabases = [...atStart].filter((m) => /(^|\/)mime-db\/db\.json$/.test(m));
      assert.equal(mimeDatabases.length, 1, `MIME databases loaded: ${mimeDatabases.join(', ')}`);
      // Asked for, the admin API is built then, and answers.
      const doc = await fetch(`${probed.issuer}/admin/api/v1/openapi.json`);
      assert.equal(doc.status, 200);
      assert.equal(((await doc.json()) as { info: { title: string } }).info.title, 'Latchkey admin API');
      assert.ok(bundled().has('src/api/admin/index.ts'), 'the admin API was loaded by its first request');
    } finally {
      await probed?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Prisma's query compilers are .wasm files beside the bundle, not base64 inside it", () => {
    ensureBuilt();
    const files = filesUnder(join(repoRoot, 'dist')).filter((f) => f.endsWith('.js'));
    for (const file of files) assert.equal(readFileSync(file, 'utf8').includes('AGFzbQEAAAAB'), false, `${file} holds WebAssembly in base64`);
    for (const db of ['sqlite', 'postgresql']) {
      const wasm = readFileSync(join(repoRoot, 'dist', 'wasm', `query_compiler_small_bg.${db}.wasm`));
      // The server and the CLI compile it (the start-up test above); here: the file is whole WebAssembly.
      assert.equal(wasm.subarray(0, 8).toString('hex'), '0061736d01000000', `${db}'s query compiler starts as WebAssembly 1 does`);
      assert.ok(wasm.length > 1_000_000, `${db}'s query compiler is whole (${wasm.length} bytes)`);
      // What the generated client is given in its place: read when the client converts it, and held by no module.
      const stub = files.find((f) => readFileSync(f, 'utf8').includes(`../wasm/query_compiler_small_bg.${db}.wasm`));
      assert.ok(stub, `a chunk reads ${db}'s query compiler`);
      const script = `const { wasm } = await import(${JSON.stringify(pathToFileURL(stub).href)});
const bytes = Buffer.from(wasm, 'base64');
const held = wasm instanceof Uint8Array || wasm instanceof ArrayBuffer;
console.log(JSON.stringify({ held, length: bytes.length, head: bytes.subarray(0, 8).toString('hex') }));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      const given = JSON.parse(run.stdout) as { held: boolean; length: number; head: string };
      assert.equal(given.held, false, `the module exporting ${db}'s query compiler holds its bytes for as long as the process lives`);
      assert.deepEqual({ length: given.length, head: given.head }, { length: wasm.length, head: '0061736d01000000' });
    }
  });

  it('every chunk loads, the lazily loaded ones too (QR codes, jose, PostgreSQL, passkeys)', async () => {
    ensureBuilt();
    const chunks = filesUnder(join(repoRoot, 'dist', 'chunks')).filter((f) => f.endsWith('.js'));
    assert.ok(chunks.length > 10);
    // One chunk is the CLI's program (src/cli/index.ts): with no arguments it answers a usage error and
    // would exit the loop; its exit is held back until every chunk has loaded.
    const script = `const exit = process.exit; process.exit = () => {}; for (const f of ${JSON.stringify(chunks)}) await import(f); exit(0);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
  });
});
