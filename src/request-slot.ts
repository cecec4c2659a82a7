// A value kept for one request, on an object that lives exactly as long as
// the request (its scope object, its Koa context), under a key private to
// the code that keeps it: what a WeakMap keyed by that object would do,
// without the WeakMap. V8's young-generation collector keeps the values of a
// long-lived WeakMap's entries alive when their keys are young, even after
// those keys have died, so a request's values survived every scavenge, were
// promoted, and were freed only by a full collection (bench/README.md,
// stop 35, with oidc-provider's per-request getter the other cause). A
// property of the request's own object dies with it, in the young
// generation. The owner must be an object made for the one request
// (extensible, not a prototype other requests inherit from), and a value is
// never undefined: `has` and `delete` treat undefined as absent.
export interface RequestSlot<T extends object> {
  get(owner: object): T | undefined;
  has(owner: object): boolean;
  set(owner: object, value: T): void;
  delete(owner: object): void;
}

export function requestSlot<T extends object>(name: string): RequestSlot<T> {
  const key = Symbol(name);
  const slots = (owner: object) => owner as Record<symbol, T | undefined>;
  return {
    get: (owner) => slots(owner)[key],
    has: (owner) => slots(owner)[key] !== undefined,
    set: (owner, value) => {
      slots(owner)[key] = value;
    },
    delete: (owner) => {
      slots(owner)[key] = undefined;
    },
  };
}
