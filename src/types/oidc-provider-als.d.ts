// oidc-provider's own AsyncLocalStorage (the store behind `Provider.ctx`),
// which src/oidc/provider-request.ts enters for every request.
declare module 'oidc-provider/lib/helpers/als.js' {
  import type { AsyncLocalStorage } from 'node:async_hooks';

  const als: AsyncLocalStorage<unknown>;
  export default als;
}
