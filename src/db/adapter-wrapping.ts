// Small decorations of Prisma driver adapters (script-tolerant migrations,
// query timing, shadow databases), written once.
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

/** The adapter with some methods replaced; every other member still works, bound to the original. */
export function overrideAdapter(adapter: SqlDriverAdapter, overrides: Partial<SqlDriverAdapter>): SqlDriverAdapter {
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof SqlDriverAdapter];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A factory whose every connection (main and shadow) passes through `map`. */
export function mapConnections(
  factory: SqlMigrationAwareDriverAdapterFactory,
  map: (adapter: SqlDriverAdapter) => SqlDriverAdapter,
): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => map(await factory.connect()),
    connectToShadowDb: async () => map(await factory.connectToShadowDb()),
  };
}
