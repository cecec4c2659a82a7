// CI runs the suite three times (.ci/run): on SQLite under Node 20, on
// PostgreSQL (TEST_POSTGRES_URL set) under Node 20, and on SQLite under
// Node 24. The PostgreSQL pass is there for what the database changes.

/**
 * `skip` for a suite that, on the PostgreSQL pass, would do exactly what the
 * first pass did on the same Node: one that never opens the suite's
 * database, or one whose every request another suite of the pass already
 * makes. Such a suite found nothing new there, and cost the pass CPU it
 * needs (docs/contributing.md: the pass is CPU-bound, against a budget of
 * six minutes).
 */
export function repeatsFirstPass(why: string): string | false {
  return process.env.TEST_POSTGRES_URL ? `on PostgreSQL this would repeat the SQLite pass: ${why}` : false;
}

/** Why the German/dark walks (pages, console) are such suites. */
export const WALK_IN_ENGLISH = 'the English/light walk visits the same pages in the same states, and which database serves them changes no colours or words';

/** Why the suites that start the built server as a new operator does are such suites. */
export const OWN_SETTINGS = 'the servers and CLIs it starts get settings of their own (a SQLite file, or none), never the suite’s database';
