// OAuth Client ID Metadata Documents: a client_id that is an https URL names
// the client's registration, a JSON document at that URL.

/** The host a metadata-document client's id names (what a person is shown), or undefined for any other client. */
export function metadataDocumentHost(clientId: string): string | undefined {
  if (!clientId.startsWith('https://')) return undefined;
  try {
    return new URL(clientId).host;
  } catch {
    return undefined;
  }
}
