// Signs a jwt-bearer assertion (RFC 7523) for a service account, from the
// JSON that `admin bootstrap --json` or `service-account create
// --generate-key … --json` printed: for shell scripts and the README's curl
// examples, which cannot sign a JWT themselves.
//   node scripts/sign-assertion.mjs admin.json https://id.example.com
// prints the assertion (valid for 2 minutes, single use).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importJWK, SignJWT } from 'jose';

const [file, issuer] = process.argv.slice(2);
if (!file || !issuer) {
  console.error('usage: node scripts/sign-assertion.mjs ACCOUNT.json ISSUER');
  process.exit(2);
}
const { client_id: clientId, private_key: key } = JSON.parse(readFileSync(file, 'utf8'));
if (!clientId || !key?.d) {
  console.error(`${file} has no client_id and private_key (the --json output of admin bootstrap)`);
  process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
const assertion = await new SignJWT({ iss: clientId, sub: clientId, aud: `${issuer.replace(/\/+$/, '')}/token`, iat: now, exp: now + 120, jti: randomUUID() })
  .setProtectedHeader({ alg: key.alg, kid: key.kid })
  .sign(await importJWK(key, key.alg));
process.stdout.write(`${assertion}\n`);
