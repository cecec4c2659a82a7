// Checking a password against whatever hash the person has: Latchkey's
// bcrypt, or one imported from another product (argon2, scrypt, PBKDF2,
// bcrypt of another cost; src/services/people/password-hashes.ts), always on
// a password thread, never on the event loop.
//
// Timing. Without imported hashes every answer costs one bcrypt comparison
// at the configured cost, for registered and unknown emails alike. An
// imported hash costs what its scheme costs: an argon2 taking 150 ms beside a
// bcrypt taking 5 would tell an attacker which emails belong to imported
// accounts. So while any imported hash remains, every answer does the same
// work: one verification per scheme in use (Latchkey's bcrypt and each
// imported scheme, read from the users table's indexed `password_scheme`),
// the person's own against their hash and every other one against a made-up
// hash of that scheme's cost. An unknown email, a locked account, a Latchkey
// account and an imported one thus run the same jobs, so their answers take
// the same time whatever the machine's load or a scheme's spread (a timing
// floor estimated from past runs did not: a 64 MiB argon2 varies by 2x here).
// The price is CPU while imported hashes remain: a sign-in costs the sum of
// the schemes in use. When the last imported hash has been re-hashed, each
// answer is one bcrypt again.
import type { Db } from '../../db/database.ts';
import type { ChangeTracker } from '../machines/config-cache.ts';
import { isNativeHash, NO_PASSWORD, parsePasswordHash, syntheticJob, type ParsedHash } from './password-hashes.ts';
import { timingEqualiserHash, verifyPasswordJob } from './passwords.ts';

/** How often the schemes in use are read again (the set shrinks as people sign in). */
const CENSUS_EVERY_MS = 5 * 60_000;

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
  /** Runs one verification on the password threads (tests observe which jobs an answer runs). */
  verify?: typeof verifyPasswordJob;
}

export function createPasswordVerifier({ db, changes, bcryptCost, now = Date.now, verify = verifyPasswordJob }: PasswordVerifierDeps) {
  const native = `bcrypt cost=${bcryptCost}`;
  let census: { at: number; schemes: Promise<string[]> } | undefined;
  changes.onChange('password_schemes', () => (census = undefined));

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

  /** The schemes whose work every answer does now: only Latchkey's bcrypt while no imported hash exists. */
  async function schemesToRun(): Promise<string[]> {
    return [...new Set([native, ...(await schemesInUse())])];
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
     * same). Every answer runs one verification per scheme in use.
     */
    async check(password: string, stored: StoredPassword | undefined): Promise<PasswordCheck> {
      const parsed = parse(stored);
      const job = parsed?.job ?? { kind: 'bcrypt' as const, hash: timingEqualiserHash(bcryptCost) };
      const own = parsed?.scheme ?? native;
      const others = (await schemesToRun()).filter((s) => s !== own).map((s) => syntheticJob(s)!);
      const [result] = await Promise.all([verify(password, job), ...others.map((j) => verify('', j))]);
      const ok = parsed !== undefined && result!.ok;
      return { ok, rehash: ok && (stored!.scheme !== null || !isNativeHash(stored!.hash, bcryptCost)) };
    },

    /** The schemes every answer verifies now (for tests and metrics). */
    schemesToRun,
  };
}

export type PasswordVerifier = ReturnType<typeof createPasswordVerifier>;
