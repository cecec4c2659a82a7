// What a process makes only when it is first asked for: modules a start does
// not need (the admin API, the importers), loaded by their first caller.

/** `load`, run by the first call, its result shared by every later one; a load that failed is tried again by the next call. */
export function onFirstCall<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}
