import type { ConnectorFactory } from '../connector.ts';
import { LdapConnector } from './ldap.connector.ts';
import { describeLdapSettings, LdapSettingsSchema, type LdapSettings } from './ldap.settings.ts';

export { LdapSettingsSchema, type LdapSettings } from './ldap.settings.ts';

/** The LDAP connector (OpenLDAP + ppolicy): `{ "type": "ldap", "settings": { url, bindDn, bindPasswordFile, userDn, groups, … } }`. */
export const ldapConnector: ConnectorFactory<LdapSettings> = {
  type: 'ldap',
  parseSettings: (raw) => LdapSettingsSchema.parse(raw),
  create(settings, context) {
    // Read once at start: a missing file stops start-up naming the file, never its content.
    const bindPassword = settings.bindPasswordFile !== undefined ? context.readSecretFile(settings.bindPasswordFile) : settings.bindPassword!;
    const ca = settings.tls.caFile === undefined ? undefined : context.readSecretFile(settings.tls.caFile);
    return new LdapConnector(settings, { bindPassword, ...(ca === undefined ? {} : { ca }) }, context);
  },
  describe: describeLdapSettings,
};

