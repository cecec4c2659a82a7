// `npm run build`: bundles the server and the admin CLI into dist/ with
// esbuild: dist/server.js (what `npm start` runs), dist/cli/index.js (the
// latchkey-admin bin) and dist/cli/migrate.js, their dependencies included
// except native addons and what only some deployments load, with shared and
// lazily loaded code in dist/chunks/. What runs in production is plain
// `node dist/server.js`: no tsx, no TypeScript, no Prisma CLI. One bundle
// instead of a file per module: resolving, reading and compiling some 1,100
// module files was most of a start (bench/README.md, "Start-up, memory and
// the admin CLI", has the figures).
//
//   node scripts/build.mjs            build now
//   node scripts/build.mjs --if-stale build only when dist/ is missing or older
//                                     than src/, package.json or
//                                     package-lock.json (what `npm start`
//                                     and the latchkey-admin bin do first)
//
// The build type-checks nothing (`npm run typecheck` does that) and is
// written to a folder of its own, then swapped in, so a process that is
// running from dist/ never sees half a build. Concurrent builders (parallel
// test files, two CLI commands right after a checkout) take turns on a lock.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** require() as from the project's own folder: the packages at the top of node_modules. */
const fromRoot = createRequire(join(root, 'package.json'));
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp.json');
const lock = join(root, '.dist-build.lock');
/** What the build reads besides src/: a change to either is a change to the output. */
const configFiles = ['tsconfig.json', 'package.json', 'package-lock.json'];

/** The newest modification time under src/ (files and folders: a deleted file changes its folder's) and how many entries. */
function sources() {
  let newest = 0;
  let count = 0;
  const walk = (dir) => {
    const s = statSync(dir);
    newest = Math.max(newest, s.mtimeMs);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        count++;
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  walk(join(root, 'src'));
  // A project without a lockfile (another package manager) simply has one file less to watch.
  for (const f of configFiles) if (existsSync(join(root, f))) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return { newest, count };
}

/** Why dist/ must be (re)built, or undefined when it is current. A deployment without src/ runs what it has. */
export function staleReason() {
  if (!existsSync(join(root, 'src'))) return existsSync(join(dist, 'server.js')) ? undefined : 'neither src/ nor dist/ is here';
  if (!existsSync(stampFile)) return 'dist/ has not been built';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return 'dist/ is incomplete';
  }
  const now = sources();
  if (now.newest !== stamp.newest || now.count !== stamp.count) return 'src/ changed since the last build';
  if (stamp.builder !== builderDigest()) return 'scripts/build.mjs changed since the last build';
  return undefined;
}

/** This script's digest: what it does to the bundle (providerContextAsValue, asciiOnly) is part of the output too. */
function builderDigest() {
  return createHash('sha256')
    .update(readFileSync(fileURLToPath(import.meta.url)))
    .digest('hex');
}

/** The lockfile's digest: the dependency versions a build bundled. */
function lockDigest() {
  const file = join(root, 'package-lock.json');
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : undefined;
}

/** esbuild, when installed (a devDependency). */
function esbuild() {
  try {
    return fromRoot('esbuild');
  } catch {
    return undefined;
  }
}

/**
 * Left out of the bundle, loaded from node_modules: native addons (and the
 * password threads load bcrypt and argon2 by path), the migration engine
 * (WebAssembly read from its package), and the mail sender, which only some
 * deployments load at all. libsql's JavaScript is bundled (see
 * libcFromLddFirst); its native part, @libsql/<platform>, is required at run
 * time by a name the bundle cannot know. PostgreSQL's driver is bundled, in a
 * chunk only a PostgreSQL deployment loads (see pgStreamsForNode), without
 * its optional native binding and its Cloudflare sockets, which Node never
 * loads.
 */
const EXTERNAL = ['bcrypt', '@node-rs/argon2', '@prisma/schema-engine-wasm', 'pg-native', 'pg-cloudflare', 'nodemailer'];

/** The real path of `name` as `from` (a require) resolves it; undefined when it is not installed. */
function located(from, name) {
  try {
    return realpathSync(from.resolve(name));
  } catch {
    return undefined;
  }
}

/**
 * Prisma's SQLite adapter imports the libSQL client whole, with its remote
 * transports (WebSocket and HTTP: 250 kB of the bundle, 66 modules, about
 * 60 ms of every start) for a client only ever given a `file:` URL. The
 * client's local-file part exports the same createClient, which is what the
 * whole client calls for a file URL and all the adapter uses.
 */
function libsqlAlias() {
  const fromAdapter = createRequire(fromRoot.resolve('@prisma/adapter-libsql'));
  // The CommonJS file of the same subpath locates the package (its exports do not list package.json).
  const packageOf = (name, dir) => {
    const file = join(dir, 'package.json');
    const pkg = existsSync(file) && JSON.parse(readFileSync(file, 'utf8'));
    if (pkg?.name === name) return { dir, pkg };
    if (dirname(dir) === dir) throw new Error(`${name}, the SQLite adapter's driver, is not installed`);
    return packageOf(name, dirname(dir));
  };
  const { dir, pkg } = packageOf('@libsql/client', dirname(fromAdapter.resolve('@libsql/client/sqlite3')));
  const entry = pkg.exports?.['./sqlite3']?.import;
  if (typeof entry !== 'string') throw new Error(`@libsql/client ${pkg.version} no longer exports ./sqlite3 for import: update the alias in scripts/build.mjs`);
  // libsql (native) stays external and is loaded from the top: it must be the copy the client was installed with.
  const nativeOfClient = realpathSync(createRequire(join(dir, 'package.json')).resolve('libsql'));
  if (nativeOfClient !== realpathSync(fromRoot.resolve('libsql'))) {
    throw new Error(`@libsql/client ${pkg.version} was installed with another libsql than ours: align the libsql version in package.json`);
  }
  // The bundle requires @libsql/<platform> from dist/, where libsql would from its own folder: the same file, or the build stops.
  const libsql = packageOf('libsql', dirname(fromRoot.resolve('libsql')));
  const fromLibsql = createRequire(join(libsql.dir, 'package.json'));
  for (const native of Object.keys(libsql.pkg.optionalDependencies ?? {})) {
    const own = located(fromLibsql, native);
    // undefined: another platform's, not installed here.
    if (own && own !== located(fromRoot, native)) {
      throw new Error(`${native} is installed under libsql, not at the top of node_modules, where the bundle looks for it: reinstall (npm ci)`);
    }
  }
  return { '@libsql/client': join(dir, entry) };
}

/**
 * Node's own modules that are bundled as CommonJS takes them. An ESM import
 * of a built-in module makes its facade, which reads every export once,
 * lazy getters included. On Node 24 `node:http`'s WebSocket, MessageEvent
 * and CloseEvent are getters that load undici, Node's fetch, for a server
 * that never calls them: `import 'node:http'` loads 85 modules more than
 * `require('node:http')` (76 beyond the ESM loader's own), and holds 11 MB
 * more. So `node:http` is bundled as a CommonJS module holding the module
 * object itself, from which the bundle reads only what its code uses, when
 * it uses it (bench/README.md, "Stop 40"). The facades of `node:fs` and
 * `node:util` read lazy exports too (34 modules each in a bare process),
 * but the server loads those modules through other imports anyway: taken
 * the same way, they changed nothing measurable, and are left as they are.
 * A dynamic import() of a module listed here would get the object as its
 * default export alone, so the build refuses one (`lazyFacadesOnly`).
 */
const BUILTINS_AS_OBJECTS = ['http'];
// With their subpaths (such as fs/promises): an alias also applies to the paths under its name.
const builtinsTaken = builtinModules.filter((m) => BUILTINS_AS_OBJECTS.includes(m.split('/')[0]));
const stubName = (builtin) => `node-${builtin.replaceAll('/', '-')}`;

function builtinsAsObjects(stubs) {
  mkdirSync(stubs, { recursive: true });
  const alias = {};
  for (const name of builtinsTaken) {
    const stub = join(stubs, `${stubName(name)}.cjs`);
    writeFileSync(stub, `module.exports = process.getBuiltinModule(${JSON.stringify(`node:${name}`)});\n`);
    alias[name] = alias[`node:${name}`] = stub;
  }
  return alias;
}

/** A dynamic import() of a module of BUILTINS_AS_OBJECTS becomes a chunk of its own, named after its stub. */
function lazyFacadesOnly(out) {
  const chunk = new RegExp(`^(${builtinsTaken.map(stubName).join('|')})-[A-Z0-9]+\\.js$`);
  const imported = readdirSync(join(out, 'chunks')).filter((f) => chunk.test(f));
  if (imported.length > 0) {
    throw new Error(
      `a dynamic import() of ${imported.join(', ')} would get the module object as its default export only: ` +
        'import it statically, or take it out of BUILTINS_AS_OBJECTS in scripts/build.mjs',
    );
  }
}

/**
 * Prisma's query compiler, WebAssembly, ships as a JavaScript module holding
 * it in base64 (2.2 MB for SQLite, 2.3 MB for PostgreSQL), which every start
 * read, parsed and decoded: 80 ms of CPU against 30 from a .wasm file
 * (bench/README.md, "Stop 28"). The build writes each as a .wasm file in
 * dist/wasm/ and bundles, in the module's place, one that reads that file.
 * The generated client passes the module's `wasm` to Buffer.from(…,
 * 'base64'), and Buffer.from takes an object by what its valueOf() returns:
 * the file's bytes, read then, and an ArrayBuffer is taken as it is, not
 * decoded or copied. So nothing holds them once the client has compiled its
 * WebAssembly module; a module's exported bytes would live as long as the
 * process (1.6 MB, bench/README.md, "Stop 42").
 */
function queryCompilerFiles(out, stubs) {
  const alias = {};
  mkdirSync(join(out, 'wasm'), { recursive: true });
  mkdirSync(stubs, { recursive: true });
  for (const db of ['sqlite', 'postgresql']) {
    const name = `query_compiler_small_bg.${db}`;
    const { wasm } = fromRoot(`@prisma/client/runtime/${name}.wasm-base64.js`);
    const bytes = typeof wasm === 'string' ? Buffer.from(wasm, 'base64') : undefined;
    if (bytes?.subarray(0, 4).toString('latin1') !== '\0asm') {
      throw new Error(`@prisma/client's ${name}.wasm-base64.js no longer exports the query compiler as base64: update queryCompilerFiles in scripts/build.mjs`);
    }
    writeFileSync(join(out, 'wasm', `${name}.wasm`), bytes);
    // Bundled into dist/chunks/ (a module imported on first use), so the file is at ../wasm/ from it.
    const stub = join(stubs, `${db}.mjs`);
    writeFileSync(
      stub,
      "import { readFileSync } from 'node:fs';\n" +
        'export const wasm = {\n' +
        '  valueOf() {\n' +
        `    const bytes = readFileSync(new URL('../wasm/${name}.wasm', import.meta.url));\n` +
        '    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes;\n' +
        '  },\n' +
        '};\n',
    );
    alias[`@prisma/client/runtime/${name}.wasm-base64.mjs`] = stub;
  }
  return alias;
}

/**
 * rate-limiter-flexible's index requires every limiter it has (Redis, Mongo,
 * MySQL, DynamoDB, etcd, cluster, …: 170 kB of the bundle, all evaluated at
 * every start) for the two the server uses. The bundle takes what src/
 * imports from the package from those classes' own files. A name a static
 * import of src/ takes that is not listed here fails the build, since
 * esbuild checks an ES module's exports; a dynamic import()'s names are not
 * checked (src/services/links/mail-throttle.ts takes RateLimiterPrisma so,
 * which is listed). Absolute paths, so that the alias does not apply to them
 * again.
 */
const RATE_LIMITER_CLASSES = ['RateLimiterMemory', 'RateLimiterPrisma', 'RateLimiterRes'];

function rateLimitersUsedOnly(stubs) {
  mkdirSync(stubs, { recursive: true });
  const stub = join(stubs, 'rate-limiter-flexible.mjs');
  const line = (name) => `export { default as ${name} } from ${JSON.stringify(fromRoot.resolve(`rate-limiter-flexible/lib/${name}.js`))};\n`;
  writeFileSync(stub, RATE_LIMITER_CLASSES.map(line).join(''));
  return { 'rate-limiter-flexible': stub };
}

function compile() {
  const before = sources();
  const out = join(root, `dist.tmp-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const bundler = esbuild();
  if (!bundler) throw new Error('cannot build dist/: esbuild is not installed (it is a devDependency: run npm install, or build where it is)');
  const stubs = `${out}.stubs`;
  try {
    bundler.buildSync({
      absWorkingDir: root,
      entryPoints: [
        { in: 'src/main.ts', out: 'server' },
        { in: 'src/cli/main.ts', out: 'cli/index' },
        { in: 'src/cli/migrate.ts', out: 'cli/migrate' },
      ],
      outdir: out,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: EXTERNAL,
      alias: { ...libsqlAlias(), ...queryCompilerFiles(out, stubs), ...builtinsAsObjects(stubs), ...rateLimitersUsedOnly(stubs) },
      // Bundled CommonJS packages call require() for Node's own modules.
      banner: { js: "import { createRequire as __latchkeyCreateRequire } from 'node:module'; const require = __latchkeyCreateRequire(import.meta.url);" },
      // Not read at run time; `NODE_OPTIONS=--enable-source-maps` makes a logged stack name src/ files.
      sourcemap: 'linked',
      // esbuild's default, said: strings and names escaped to ASCII (see asciiOnly below).
      charset: 'ascii',
      logLevel: 'error',
    });
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw new Error(`esbuild failed: ${err.message.split('\n')[0]}`);
  } finally {
    rmSync(stubs, { recursive: true, force: true });
  }
  try {
    lazyFacadesOnly(out);
    providerContextAsValue(out);
    listFormatsOnFirstUse(out);
    libcFromLddFirst(out);
    zlibAndHttpsOnFirstUse(out);
    pgStreamsForNode(out);
    asciiOnly(out, bundler);
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
  writeFileSync(
    join(out, '.build-stamp.json'),
    `${JSON.stringify({ ...before, lock: lockDigest(), builder: builderDigest(), node: process.version, builtAt: new Date().toISOString() })}\n`,
  );
  // Swap: the old build stays whole until the new one replaces it.
  const old = join(root, `dist.old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
}

/**
 * oidc-provider 9 gives each request its `ctx.oidc` through an accessor it
 * defines on that request's Koa context, with a getter of its own. V8 keeps
 * an object's own accessors in a pair allocated in the old generation, so
 * from there the getter, the context and everything the request made
 * stayed reachable through every young-generation collection until the next
 * full one: each request's objects were promoted, and the old generation
 * grew by them (bench/README.md, stop 35). The bundle makes the context a
 * value, at once, as oidc-provider 8 and earlier did: `ensureOIDC` runs
 * after the route is matched, and the route is all the constructor reads.
 * Lines are kept, so the source map still lines up. Another version of the
 * library without this code fails the build here rather than losing the
 * change unseen.
 */
export function providerContextAsValue(dir) {
  const lazy =
    /let (\w+);\n\s*Object\.defineProperty\((\w+), "oidc", \{\n\s*get: \(\) => \{\n\s*\1 \|\|= new this\.OIDCContext\(\2\);\n\s*return \1;\n\s*\}\n\s*\}\);/g;
  // Made at once, the context must still read nothing but what is set by then: the matched route.
  const contextConstructor = new RegExp(
    [
      'constructor\\((\\w+)\\) \\{',
      'super\\(\\);',
      'this\\.ctx = \\1;',
      'this\\.route = \\1\\._matchedRouteName;',
      'this\\.redirectUriCheckPerformed = false;',
      'this\\.entities = \\{\\};',
      'this\\.claims = \\{\\};',
      'this\\.resourceServers = \\{\\};',
      '\\}',
    ].join('\\n\\s*'),
    'g',
  );
  const constructors = bundleFiles(dir).reduce((n, file) => n + (readFileSync(file, 'utf8').match(contextConstructor)?.length ?? 0), 0);
  patchBundle(dir, {
    what: "oidc-provider's ensureOIDC",
    where: 'providerContextAsValue',
    pattern: lazy,
    replacer: (whole, _state, ctx) =>
      `Object.defineProperty(${ctx}, "oidc", { value: new this.OIDCContext(${ctx}) });${'\n'.repeat(whole.split('\n').length - 1)}`,
  });
  if (constructors !== 1) {
    throw new Error(
      `oidc-provider's OIDCContext constructor is not the one providerContextAsValue in scripts/build.mjs was written for (found ${constructors})`,
    );
  }
}

/**
 * oidc-provider makes two Intl.ListFormat objects when its module loads,
 * for the lists of parameter names in a few error descriptions ("missing
 * required parameters 'a' and 'b'"). Making one reads ICU's list and locale
 * data: 7 MB of a start's resident memory on both Node 20 and 24, against
 * a bare process (bench/README.md, "Stop 40"). The bundle makes each at its
 * first use instead; the text it formats is the same. On one line each, so
 * the source map still lines up; another version of the library fails the
 * build here.
 */
function listFormatsOnFirstUse(dir) {
  patchBundle(dir, {
    what: "oidc-provider's list formatters",
    where: 'listFormatsOnFirstUse',
    pattern: /^var (\w+) = new Intl\.ListFormat\(("en", \{ type: "(?:conjunction|disjunction)" \})\);$/gm,
    replacer: (_whole, name, args) => `var ${name} = { format: (list) => (${name} = new Intl.ListFormat(${args})).format(list) };`,
    times: 2,
  });
}

/**
 * libsql picks its native build (glibc or musl) through @neon-rs/load, which
 * asks for a whole diagnostic report (process.report.getReport()) at every
 * start, to see whether the process runs on glibc: the JavaScript and native
 * stacks, every shared library, the environment. That took 4-7 ms and
 * 1.5-2 MB of resident memory in a bare process, and on top the line table of
 * each script on the stack: 0.4 MB for the server's largest chunk
 * (bench/README.md, "Stop 42"). libsql also depends on detect-libc, which
 * tells the system's C library from the text of /usr/bin/ldd; the bundle
 * asks it first and takes a glibc system's answer as the process's. Any
 * other answer (musl, no ldd, a glibc process on a musl system with a glibc
 * layer) goes on to the report, as before. One line, so the source map still
 * lines up; another version of either library fails the build here.
 */
function libcFromLddFirst(dir) {
  const detectLibc = /^var (require_detect_libc\w*) = __commonJS\(\{\n\s*"node_modules\/detect-libc\/lib\/detect-libc\.js"/m;
  const reportFirst = /^(\s*)function isGlibc\(\) \{\n(\s*)const report = process\.report\?\.getReport\(\);$/m;
  const files = bundleFiles(dir).filter((file) => reportFirst.test(readFileSync(file, 'utf8')));
  const wrapper = files.length === 1 && detectLibc.exec(readFileSync(files[0], 'utf8'))?.[1];
  if (!wrapper) {
    throw new Error(
      `@neon-rs/load's isGlibc was found in ${files.length} bundle files, or without detect-libc beside it: see libcFromLddFirst in scripts/build.mjs`,
    );
  }
  patchBundle(dir, {
    what: "@neon-rs/load's isGlibc",
    where: 'libcFromLddFirst',
    pattern: new RegExp(reportFirst.source, 'gm'),
    replacer: (_whole, outer, inner) =>
      `${outer}function isGlibc() {\n${inner}if (${wrapper}().familySync() === "glibc") return true; const report = process.report?.getReport();`,
  });
}

/**
 * Two modules the server loads at start require node:zlib, and one of them
 * node:https, when their module loads, for what a server that does not use
 * it never runs: prom-client's push gateway client (exported beside the
 * registry, which is all the server uses) and destroy's check of whether a
 * stream it is given is a zlib stream (Koa, for a streamed body). Loading
 * the two, with node:tls, held about 2 MB of a start on Node 24
 * (bench/README.md, "Stop 42"). The bundle loads each at its first use: the
 * push gateway as a getter of prom-client's exports, and zlib's classes
 * through an object that asks node:zlib for them when read. One line each,
 * so the source map still lines up; another version of either library fails
 * the build here.
 */
function zlibAndHttpsOnFirstUse(dir) {
  patchBundle(dir, {
    what: "prom-client's Pushgateway export",
    where: 'zlibAndHttpsOnFirstUse',
    pattern: /^(\s*)(\w+)\.Pushgateway = (require_pushgateway\w*)\(\);$/gm,
    replacer: (_whole, indent, exports, load) => `${indent}Object.defineProperty(${exports}, "Pushgateway", { enumerable: true, get: ${load} });`,
  });
  patchBundle(dir, {
    what: "destroy's node:zlib",
    where: 'zlibAndHttpsOnFirstUse',
    pattern: /^(\s*var Stream = __require\("stream"\);\n\s*)var Zlib = __require\("zlib"\);$/gm,
    replacer: (_whole, before) => `${before}var Zlib = new Proxy({}, { get: (_target, name) => __require("zlib")[name] });`,
  });
}

/**
 * pg chooses its socket functions when its module loads: Cloudflare's or
 * Node's. Where `navigator` is missing (Node 20) its check makes a fetch
 * Response, which loads Node's whole fetch implementation (undici): 48 ms of
 * CPU of every admin CLI command and server start on PostgreSQL, for
 * nothing the bundle uses (bench/README.md, "Stop 43"). The bundle runs on
 * Node only: the check answers "not Cloudflare" without asking. One line, so
 * the source map still lines up; another version of pg fails the build here.
 */
function pgStreamsForNode(dir) {
  patchBundle(dir, {
    what: "pg's isCloudflareRuntime",
    where: 'pgStreamsForNode',
    pattern: /^(\s*)function isCloudflareRuntime\(\) \{$/gm,
    replacer: (_whole, indent) => `${indent}function isCloudflareRuntime() { return false;`,
  });
}

/**
 * A patch of library code in the bundle: `pattern` (a global RegExp) must be
 * found exactly `times` times, or the build stops, naming the function in
 * this file that was written for the library's code as it was.
 */
function patchBundle(dir, { what, where, pattern, replacer, times = 1 }) {
  const found = replaceInBundle(dir, pattern, replacer);
  if (found !== times) {
    throw new Error(`${what} was found ${found} times in the bundle, not ${times}: see ${where} in scripts/build.mjs (written for the library as it was)`);
  }
}

/** Replaces `pattern` (a global RegExp) in every file of the bundle under `dir`; returns how many times it matched. */
function replaceInBundle(dir, pattern, replacer) {
  let found = 0;
  for (const file of bundleFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const patched = text.replace(pattern, (...match) => {
      found++;
      return replacer(...match);
    });
    if (patched !== text) writeFileSync(file, patched);
  }
  return found;
}

/** Every JavaScript file under `dir`. */
function bundleFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? bundleFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/**
 * V8 keeps each module's source in memory, as one byte per character only
 * when every character is Latin-1: one dash in a kept comment made the
 * server's 1.7 MB chunk a 3.3 MB string, and zod's 0.75 MB one 1.4 MB.
 * esbuild's ASCII charset escapes strings, names and untagged templates,
 * but neither the comments it keeps, nor regular expressions, nor a tagged
 * template's raw text, where an escape would change what the code does. So
 * each file's characters outside ASCII are escaped, and the result is kept
 * only if esbuild, printing both without comments, prints the same code:
 * then only comments changed. Otherwise the file stays as it was (and the
 * production-build test says which). A source map's columns shift after an
 * escape, on that line only: code after a comment on its line is rare.
 */
export function asciiOnly(dir, bundler) {
  const code = (text) => bundler.transformSync(text, { format: 'esm', target: 'node20', minifyWhitespace: true, legalComments: 'none' }).code;
  for (const p of bundleFiles(dir)) {
    const text = readFileSync(p, 'utf8');
    const escaped = text.replace(/[\u0080-\u{10ffff}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
    if (escaped !== text && code(escaped) === code(text)) writeFileSync(p, escaped);
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Takes the build lock (waiting for another builder), runs `fn`, releases it. A lock older than two minutes is a crashed builder's. */
function withLock(fn) {
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      sleep(100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The node flags of `npm start`, read from package.json's start script (the
 * one place in code they are written), for whatever else starts the server
 * as `npm start` does: the bench, the tests' server processes. Only numeric
 * V8 sizing flags are accepted: a flag that loads files or opens ports
 * (`--env-file`, `--inspect`) would leak into every test server.
 *
 * `--max-semi-space-size=8`: a young generation of 16 MB whatever the host.
 * V8 sizes it from the memory it sees: on a 24 GB host 64 MB on Node 24 and
 * 32 MB on Node 20, in a container of 512 MB 2 MB. A request leaves
 * little alive once answered, so the large ones held memory with no
 * consistent CPU difference: through the bench's memory check a Node 24
 * node peaked at 218 MB, at 196-201 with 32 MB and at 180-188 with 16; a
 * Node 20 node at 176-179 and at 162-163 (bench/README.md, "Stop 38").
 */
export function startNodeFlags() {
  const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts?.start ?? '';
  const shape = /^node((?: --[a-z-]+=\d+)*) dist\/server\.js$/.exec(start);
  if (!shape) throw new Error(`package.json's start script is not "node [--v8-sizing-flag=N …] dist/server.js": ${start}`);
  return shape[1].split(' ').filter(Boolean);
}

/** node's arguments that start the server as `npm start` does, with `extraFlags` after the start script's own. */
export function startArgs(extraFlags = []) {
  return [...startNodeFlags(), ...extraFlags, join(root, 'dist', 'server.js')];
}

/** The lockfile digest dist/ was built with, if its stamp says. */
function builtWith() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8')).lock;
  } catch {
    return undefined;
  }
}

/** Builds dist/ unless it is current; says so on stderr when it builds. Synchronous: callers run it before anything else. */
export function ensureBuilt({ quiet = false } = {}) {
  const stale = staleReason();
  if (!stale) return false;
  // A production host installed without devDependencies runs the build it was given:
  // copying a tree changes modification times, and src/generated is absent there. But the
  // bundle holds the dependencies' code, so dependencies changed since (an update, an audit
  // fix) would silently not run: that refuses to start instead.
  if (!esbuild() && existsSync(join(dist, 'server.js'))) {
    const built = builtWith();
    if (built && built !== lockDigest()) {
      throw new Error(
        'dist/ bundles other dependency versions than package-lock.json now lists, and esbuild (a devDependency) is not installed here ' +
          'to rebuild it: run npm run build where devDependencies are installed and ship the new dist/',
      );
    }
    return false;
  }
  return withLock(() => {
    // Another process may have built it while this one waited.
    const reason = staleReason();
    if (!reason) return false;
    const started = performance.now();
    if (!quiet) process.stderr.write(`latchkey: building dist/ (${reason})…\n`);
    compile();
    if (!quiet) process.stderr.write(`latchkey: built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return true;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    if (process.argv.includes('--if-stale')) ensureBuilt();
    else {
      withLock(compile);
      process.stderr.write('latchkey: built dist/\n');
    }
  } catch (err) {
    process.stderr.write(`latchkey: build failed: ${err.message}\n`);
    process.exit(1);
  }
}
