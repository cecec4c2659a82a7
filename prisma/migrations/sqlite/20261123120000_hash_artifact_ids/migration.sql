-- Token, code, session and interaction ids are stored as keyed hashes from
-- now on (src/oidc/adapter.ts). Rows written before the upgrade hold them in
-- clear and can no longer be found: delete them. Everyone signs in again once,
-- and refresh tokens issued before the upgrade stop working.
DELETE FROM "oidc_payloads" WHERE "type" IN ('Session', 'Interaction', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest', 'RegistrationAccessToken', 'InitialAccessToken');
