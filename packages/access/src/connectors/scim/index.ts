import type { ConnectorFactory } from '../connector.ts';
import { ScimClient } from './scim.client.ts';
import { ScimConnector } from './scim.connector.ts';
import { ScimSettingsSchema, type ScimSettings } from './scim.settings.ts';

export { ScimSettingsSchema, type ScimSettings } from './scim.settings.ts';

/** The SCIM 2.0 client connector: `{ "type": "scim", "settings": { baseUrl, tokenFile, … } }` in the systems file. */
export const scimConnector: ConnectorFactory<ScimSettings> = {
  type: 'scim',
  parseSettings: (raw) => ScimSettingsSchema.parse(raw),
  create(settings, context) {
    const token = settings.tokenFile !== undefined ? context.readSecretFile(settings.tokenFile) : settings.token!;
    const ca = settings.caFile === undefined ? undefined : context.readSecretFile(settings.caFile);
    const client = new ScimClient({ baseUrl: settings.baseUrl, token, timeoutMs: settings.timeout, ...(ca === undefined ? {} : { ca }) });
    return new ScimConnector(settings, client, context);
  },
  // No token, no token file path: only what says where and how.
  describe: (settings) => ({
    baseUrl: settings.baseUrl,
    userFilter: settings.userFilter,
    revokeMode: settings.revokeMode,
    timeoutMs: settings.timeout,
    ...(settings.caFile === undefined ? {} : { caFile: settings.caFile }),
  }),
};
