// Measures the shape of the code for the next engineer: files per folder,
// import arrows between folders, arrows that run back up a layer, and the
// longest functions (own lines, without the functions nested in them).
// Type-only imports are not arrows: they carry no code at run time. `npx tsx scripts/house-metrics.ts [--json]`.
//
// Layers, top to bottom (an import may only point down, or within its folder):
//   composition root (src/*.ts entry files, the CLI's entry) → surfaces (api, account,
//   interactions, cli, console) → oidc | middleware (siblings: neither imports
//   the other) → services → db → base (config, errors, logger, metrics, ui (the message
//   catalogue and brand, read by services, pages and mail alike), types, clock)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

const SRC = 'src';
const rank: Record<string, number> = {
  root: 0,
  api: 1,
  account: 1,
  interactions: 1,
  cli: 1,
  console: 1,
  oidc: 2,
  middleware: 2,
  services: 3,
  db: 4,
  config: 5,
  errors: 5,
  logger: 5,
  metrics: 5,
  i18n: 5,
  ui: 5,
  types: 5,
  clock: 5,
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : files(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layer a file belongs to: its first folder under src/, or "root"/its own name for top-level files. */
// cli/run.ts is the CLI's entry as a function (cli/index.ts calls it; tests run it in-process).
const ENTRIES = new Set(['cli/index.ts', 'cli/run.ts', 'cli/migrate.ts']);

function layerOf(file: string): string {
  if (ENTRIES.has(relative(SRC, file))) return 'root';
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) {
    const base = parts[0]!.replace(/\.tsx?$/, '');
    return base in rank ? base : 'root';
  }
  return parts[0]!;
}

/** Folder used for "files per capability": services/<capability>, or the top folder. */
function roomOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return '(top)';
  if (parts[0] === 'services' || parts[0] === 'api' || parts[0] === 'oidc') return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  return parts[0]!;
}

const all = files(SRC);
const rooms = new Map<string, number>();
const arrows = new Map<string, number>();
const upward: string[] = [];
const functions: { name: string; lines: number }[] = [];
let importCount = 0;

for (const file of all) {
  rooms.set(roomOf(file), (rooms.get(roomOf(file)) ?? 0) + 1);
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    const typeOnly = (ts.isImportDeclaration(node) && node.importClause?.isTypeOnly) || (ts.isExportDeclaration(node) && node.isTypeOnly);
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && !typeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const spec = node.moduleSpecifier.text;
      if (spec.startsWith('.')) {
        const target = normalize(join(dirname(file), spec));
        if (target.startsWith(`${SRC}/`) && !target.includes('/generated/')) {
          importCount += 1;
          const from = layerOf(file);
          const to = layerOf(target);
          if (from !== to) {
            const key = `${from} → ${to}`;
            arrows.set(key, (arrows.get(key) ?? 0) + 1);
            const fr = rank[from] ?? 0;
            const tr = rank[to] ?? 0;
            if (tr < fr || (tr === fr && fr !== 1)) upward.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
          }
        }
      }
    }
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name ? node.name.getText() : '(anonymous)';
      // A factory's length is its own statements, not the functions it returns.
      let nested = 0;
      const skip = (child: ts.Node): void => {
        if (ts.isFunctionDeclaration(child) || ts.isMethodDeclaration(child) || ts.isArrowFunction(child) || ts.isFunctionExpression(child)) {
          nested += source.getLineAndCharacterOfPosition(child.getEnd()).line - source.getLineAndCharacterOfPosition(child.getStart()).line + 1;
          return;
        }
        ts.forEachChild(child, skip);
      };
      ts.forEachChild(node, skip);
      functions.push({ name: `${relative(SRC, file)}:${start + 1} ${name}`, lines: end - start + 1 - nested });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

const longest = functions.sort((a, b) => b.lines - a.lines).slice(0, 10);
const result = {
  files: all.length,
  lines: all.reduce((n, f) => n + readFileSync(f, 'utf8').split('\n').length, 0),
  rooms: Object.fromEntries([...rooms].sort()),
  imports: importCount,
  arrowsBetweenLayers: Object.fromEntries([...arrows].sort()),
  upward,
  longestFunctions: longest,
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`files ${result.files}, lines ${result.lines}, relative imports ${result.imports}`);
  console.log('files per room:');
  for (const [room, n] of Object.entries(result.rooms)) console.log(`  ${room.padEnd(28)} ${n}`);
  console.log('arrows between layers:');
  for (const [arrow, n] of Object.entries(result.arrowsBetweenLayers)) console.log(`  ${arrow.padEnd(28)} ${n}`);
  console.log(`arrows running back up: ${upward.length}`);
  for (const u of upward) console.log(`  ${u}`);
  console.log('longest functions (lines):');
  for (const f of longest) console.log(`  ${String(f.lines).padStart(4)} ${f.name}`);
}
