// Types of scripts/build.mjs for the TypeScript that imports it (the test helpers).
export const root: string;
export function staleReason(): string | undefined;
export function ensureBuilt(opts?: { quiet?: boolean }): boolean;
/** Escapes what is outside ASCII in the .js files under `dir` where only comments change (`bundler`: esbuild). */
export function asciiOnly(dir: string, bundler: unknown): void;
/** The node flags of `npm start` (package.json's start script). */
export function startNodeFlags(): string[];
/** node's arguments that start the server as `npm start` does (its flags, `extraFlags`, dist/server.js). */
export function startArgs(extraFlags?: string[]): string[];
