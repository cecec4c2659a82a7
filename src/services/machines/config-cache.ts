// Clients (with service accounts' keys) and resources change rarely and are
// read on every token request, so each node keeps them in memory. Every
// change increments a version row in the database; before trusting its
// caches a node compares the versions, at most once per CHECK_EVERY_MS.
// A change is seen at once on the node (or CLI) that made it and within
// CHECK_EVERY_MS on every other node; no node ever needs restarting.
import type { Db } from '../../db/database.ts';
import type { Clock } from '../../clock.ts';

/** `password_schemes`: imported password hashes (src/services/people/password-verifier.ts); `api_keys`: imported keys. */
export type ConfigKind = 'clients' | 'resources' | 'password_schemes' | 'api_keys';

/** How stale another node's change may be before it is seen here. */
export const CHECK_EVERY_MS = 250;

export interface ChangeTracker {
  /** Makes sure the caches reflect every change committed before the last check. */
  fresh(): Promise<void>;
  /** Records a change (inside its transaction, if any) and clears this node's caches of that kind. */
  changed(kind: ConfigKind): Promise<void>;
  onChange(kind: ConfigKind, clear: () => void): void;
  /**
   * Empties this node's caches of every kind. After a transaction that made
   * changes: what they loaded inside it was rolled back, or (read outside it
   * while it ran) predates its commit.
   */
  forget(): void;
}

export function createChangeTracker(db: Db, clock: Clock, checkEveryMs = CHECK_EVERY_MS): ChangeTracker {
  const seen = new Map<string, number>();
  const listeners = new Map<string, Array<() => void>>();
  const clear = (kind: string) => {
    for (const fn of listeners.get(kind) ?? []) fn();
  };
  let checkedAt = 0;
  let checking: Promise<void> | undefined;

  async function check(): Promise<void> {
    for (const { name, version } of await db.changeVersion.findMany()) {
      if (seen.get(name) !== version) {
        if (seen.has(name)) clear(name);
        seen.set(name, version);
      }
    }
    checkedAt = clock.now();
  }

  return {
    async fresh() {
      if (clock.now() - checkedAt < checkEveryMs) return;
      checking ??= check().finally(() => (checking = undefined));
      await checking;
    },
    async changed(kind) {
      await db.changeVersion.update({ where: { name: kind }, data: { version: { increment: 1 } } });
      clear(kind);
    },
    onChange(kind, fn) {
      listeners.set(kind, [...(listeners.get(kind) ?? []), fn]);
    },
    forget() {
      for (const kind of listeners.keys()) clear(kind);
    },
  };
}

/**
 * A cache of `load` (misses included, so unknown ids cost one lookup per
 * node, not one per request), bounded, emptied when its kind changes. A
 * change replaces the whole map, so a load that was under way when it
 * arrived ends up in the discarded one.
 */
export function configCache<V>(tracker: ChangeTracker, kind: ConfigKind, load: (key: string) => Promise<V>, max = 10_000) {
  let entries = new Map<string, Promise<V>>();
  tracker.onChange(kind, () => (entries = new Map()));
  return async (key: string): Promise<V> => {
    await tracker.fresh();
    const hit = entries.get(key);
    if (hit) return hit;
    if (entries.size >= max) entries = new Map();
    const map = entries;
    const loading = load(key);
    map.set(key, loading);
    loading.catch(() => {
      if (map.get(key) === loading) map.delete(key);
    });
    return loading;
  };
}
