// Writes schemas/latchkey-config.schema.json, the JSON Schema of `config
// export` / `config apply` files, from the zod schema the server checks them
// with (test/services/config/config-file.test.ts fails when it is stale).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/services/config/config-file.ts';

writeFileSync(new URL('../schemas/latchkey-config.schema.json', import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
