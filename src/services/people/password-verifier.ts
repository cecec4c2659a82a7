// Checking a password against whatever hash the person has: Latchkey's
// bcrypt, or one imported from another product (argon2, scrypt, PBKDF2,
// bcrypt of another cost; src/services/people/password-hashes.ts), always on
// a password thread, never on the event loop.
//
// Timing. Without imported hashes every answer costs one bcrypt comparison
// at the configured cost, for registered and unknown emails alike. An
// imported hash costs what its scheme costs: an argon2 taking 150 ms beside a
// bcrypt taking 5 would tell an attacker which emails belong to imported
// accounts. So while any imported hash remains, every answer — unknown
// email, locked, Latchkey's bcrypt or imported — is held back until the
// slowest scheme in use would have finished: the floor. The schemes in use
// are read from the users table (its indexed `password_scheme`), each is
// timed on the password threads against a made-up hash of the same cost
// before the first answer that needs it, and the estimates follow what the
// threads measure since (a moving average, plus a margin). Holding an answer
// back is a timer, not CPU. When the last imported hash has been re-hashed,
// the floor goes away.
import type { Db } from '../../db/database.ts';
import type { ChangeTracker } from '../machines/config-cache.ts';
import { isNativeHash, NO_PASSWORD, parsePasswordHash, syntheticJob, type ParsedHash } from './password-hashes.ts';
import { timingEqualiserHash, verifyPasswordJob } from './passwords.ts';

/** The floor is the slowest scheme's estimate times this: a scheme's run may be slower than its average. */
export const FLOOR_MARGIN = 1.25;
/** How often the schemes in use are read again (the set shrinks as people sign in). */
const CENSUS_EVERY_MS = 5 * 60_000;
const EWMA = 0.2;

export interface StoredPassword {
  hash: string;
  /** users.password_scheme: set while the hash is an imported one. */
  scheme: string | null;
}

export interface PasswordCheck {
  ok: boolean;
  /** Right, and not yet Latchkey's bcrypt at the configured cost: re-hash it now. */
  rehash: boolean;
}

export interface PasswordVerifierDeps {
  db: Db;
  changes: ChangeTracker;
  bcryptCost: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Waits; tests may observe it. */
  sleep?: (ms: number) => Promise<void>;
}

export function createPasswordVerifier({
  db,
  changes,
  bcryptCost,
  now = Date.now,
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
}: PasswordVerifierDeps) {
  const native = `bcrypt cost=${bcryptCost}`;
  const estimates = new Map<string, number>();
  const calibrating = new Map<string, Promise<void>>();
  let census: { at: number; schemes: Promise<string[]> } | undefined;
  changes.onChange('password_schemes', () => (census = undefined));

  const observe = (scheme: string, ms: number) => {
    const prior = estimates.get(scheme);
    estimates.set(scheme, prior === undefined ? ms : prior + EWMA * (ms - prior));
  };

  async function schemesInUse(): Promise<string[]> {
    await changes.fresh();
    if (!census || now() - census.at > CENSUS_EVERY_MS) {
      const schemes = db.user
        .groupBy({ by: ['passwordScheme'], where: { passwordScheme: { not: null } } })
        .then((rows) => rows.map((r) => r.passwordScheme!).filter((s) => syntheticJob(s) !== undefined));
      census = { at: now(), schemes };
      schemes.catch(() => (census = undefined));
    }
    return census.schemes;
  }

  /** Times one made-up hash of `scheme` (once per scheme and process). */
  function calibrate(scheme: string): Promise<void> {
    if (estimates.has(scheme)) return Promise.resolve();
    let running = calibrating.get(scheme);
    if (!running) {
      running = verifyPasswordJob('calibration', syntheticJob(scheme)!)
        .then((r) => observe(scheme, r.ms))
        .finally(() => calibrating.delete(scheme));
      calibrating.set(scheme, running);
    }
    return running;
  }

  /** How long every answer takes at least now: 0 while no imported hash exists. */
  async function floor(): Promise<number> {
    const schemes = await schemesInUse();
    if (!schemes.length) return 0;
    const all = [...new Set([native, ...schemes])];
    await Promise.all(all.map(calibrate));
    return Math.max(...all.map((s) => estimates.get(s) ?? 0)) * FLOOR_MARGIN;
  }

  function parse(stored: StoredPassword | undefined): ParsedHash | undefined {
    if (!stored || stored.hash === NO_PASSWORD) return undefined;
    try {
      return parsePasswordHash(stored.hash);
    } catch {
      return undefined;
    }
  }

  return {
    /**
     * Whether `password` matches `stored` (undefined: no such person, or a
     * locked one — compared with a made-up bcrypt hash so that it costs the
     * same). Every answer is held to the floor, whatever it is.
     */
    async check(password: string, stored: StoredPassword | undefined): Promise<PasswordCheck> {
      const target = floor();
      const parsed = parse(stored);
      const job = parsed?.job ?? { kind: 'bcrypt' as const, hash: timingEqualiserHash(bcryptCost) };
      const scheme = parsed?.scheme ?? native;
      const [result, least] = await Promise.all([verifyPasswordJob(password, job), target]);
      observe(scheme, result.ms);
      const ok = parsed !== undefined && result.ok;
      // Held from when the thread started computing, so that time spent queued (the same for
      // everyone) does not count, and a slow scheme's own time does.
      const wait = least - result.ms;
      if (wait > 0) await sleep(wait);
      return { ok, rehash: ok && (stored!.scheme !== null || !isNativeHash(stored!.hash, bcryptCost)) };
    },

    /** The current floor, milliseconds (for tests and metrics). */
    floor,
  };
}

export type PasswordVerifier = ReturnType<typeof createPasswordVerifier>;
