// Everything stored for a person or a client, removed: sessions, grants,
// interactions, and the codes and tokens issued under their grants. A row
// issued under a grant names neither the person nor the client in its
// columns, only the grant (src/oidc/adapter.ts, upsert), so it is found
// through the grants the person or client holds. Rows stored before that
// named both; they match either statement.
//
// The two statements go into the caller's transaction, in this order: the
// grants must still be there when their rows are looked up. Each is one
// indexed statement (test/db/payload-indexes.test.ts): the grants by person
// or client, their rows by grant_id.
import type { Db } from './database.ts';

type Statement = ReturnType<Db['$executeRaw']> | ReturnType<Db['oidcPayload']['deleteMany']>;

/** A person's stored rows: the rows of their grants, then their own (the grants among them). */
export function deletePersonArtifacts(db: Db, accountId: string): [Statement, Statement] {
  return [
    db.$executeRaw`DELETE FROM oidc_payloads WHERE grant_id IN (SELECT id FROM oidc_payloads WHERE type = 'Grant' AND account_id = ${accountId})`,
    db.oidcPayload.deleteMany({ where: { accountId } }),
  ];
}

/** A client's stored rows: the rows of the grants issued to it, then its own (the grants among them). */
export function deleteClientArtifacts(db: Db, clientId: string): [Statement, Statement] {
  return [
    db.$executeRaw`DELETE FROM oidc_payloads WHERE grant_id IN (SELECT id FROM oidc_payloads WHERE type = 'Grant' AND client_id = ${clientId})`,
    db.oidcPayload.deleteMany({ where: { clientId } }),
  ];
}
