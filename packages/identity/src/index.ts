export { createIdentityService, createDirectoryReader, identitySchemaModule, IDENTITY_SCHEMA, type IdentityServiceDeps } from './identity.service.ts';
export type { Contact, EmployeeRelations } from './directory/directory.ts';
export { createSecurity, personPermit, API_TOKEN_PREFIX, type Security, type SecurityOptions, type OidcTrust } from './authenticate/security.ts';
export { SESSION_COOKIE, csrfTokenFor } from './authenticate/session-cookie.ts';
export { createServiceTokens, type ServiceTokens } from './service-tokens/service-tokens.ts';
export { createSecrets, parseSecretsKey, loadOrCreateKeyFile, type Secrets } from './secrets.ts';
export { issuerOf, usesDevProvider, discoveryUrlOf, oidcTrust, serviceClientSecret, insecureAllowed, type IdentitySettings } from './settings.ts';
export { clientSecretFor } from './dev-provider/provider.ts';
export { migrations as identityMigrations } from './db/migrations.ts';
export { seedDirectory } from './directory/directory.ts';
export { DEV_NOTICE } from './dev-provider/pages.ts';
export { applyPeople, getDirectoryPerson, listDirectoryPeople, DirectoryRefused, type ApplyPeopleResult, type DirectoryEntry, type DirectoryOrigin } from './directory/apply-people.ts';
/** The largest people file the import takes (a gateway in front of identity must let it through). */
export { MAX_IMPORT_BYTES } from './import-people/people-csv.ts';
