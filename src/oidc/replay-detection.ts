// Client assertions (private_key_jwt) are single-use, and oidc-provider's own
// check is "find, then insert": two requests racing with the same assertion
// both find nothing and both get through. Ours is one insert keyed by the
// assertion's issuer and jti (src/services/secrets/replay-guard.ts), atomic on every
// database and across nodes — the same guard the jwt-bearer grant uses.
import type Provider from 'oidc-provider';
import type { ArtifactStore } from '../db/artifact-store.ts';
import { markUsedOnce } from '../services/secrets/replay-guard.ts';

export function useAtomicReplayDetection(provider: Provider, artifacts: ArtifactStore): void {
  const model = (provider as unknown as { ReplayDetection: { unique(iss: string, jti: string, exp: number): Promise<boolean> } }).ReplayDetection;
  model.unique = (iss, jti, exp) => markUsedOnce(artifacts, iss, jti, new Date(exp * 1000));
}
