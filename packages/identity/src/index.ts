export { createIdentityService, identitySchemaModule, IDENTITY_SCHEMA, type IdentityServiceDeps } from './identity.service.ts';
export { createSecurity, personPermit, API_TOKEN_PREFIX, type Security, type SecurityOptions, type OidcTrust } from './authenticate/security.ts';
export { SESSION_COOKIE, csrfTokenFor } from './authenticate/session-cookie.ts';
export { createServiceTokens, type ServiceTokens } from './service-tokens/service-tokens.ts';
export { createSecrets, parseSecretsKey, loadOrCreateKeyFile, type Secrets } from './secrets.ts';
export { issuerOf, usesDevProvider, discoveryUrlOf, oidcTrust, serviceClientSecret, insecureAllowed, type IdentitySettings } from './settings.ts';
export { migrations as identityMigrations } from './db/migrations.ts';
export { seedDirectory } from './directory/directory.ts';
export { DEV_NOTICE } from './dev-provider/pages.ts';
