import type { ConnectorFactory } from '../connector.ts';
import { HttpConnector } from './http.connector.ts';
import { HttpSettingsSchema, type HttpSettings } from './http.settings.ts';

export { HttpSettingsSchema, type HttpSettings } from './http.settings.ts';
export { HttpConnector, HTTP_CONNECTOR_USER_AGENT, type HttpConnectorOptions } from './http.connector.ts';

/** The signed HTTP connector: `{ "type": "http", "settings": { url, secretFile, timeout } }` in the systems file. No inspect: it cannot read a system back. */
export const httpConnector: ConnectorFactory<HttpSettings> = {
  type: 'http',
  parseSettings: (raw) => HttpSettingsSchema.parse(raw),
  create(settings, context) {
    const secret = settings.secretFile !== undefined ? context.readSecretFile(settings.secretFile) : settings.secret!;
    if (secret.length < 16) throw new Error(`the signing secret in ${settings.secretFile ?? 'secret'} is shorter than 16 characters`);
    const ca = settings.caFile === undefined ? undefined : context.readSecretFile(settings.caFile);
    return new HttpConnector({
      systemId: context.systemId,
      url: settings.url,
      secret,
      timeoutMs: settings.timeout,
      allowPrivateTargets: settings.allowPrivateTargets,
      ...(ca === undefined ? {} : { ca }),
    });
  },
  // The URL without its query (it may carry a token of the receiver's), never the secret.
  describe: (settings) => {
    const url = new URL(settings.url);
    return {
      url: `${url.origin}${url.pathname}`,
      timeoutMs: settings.timeout,
      allowPrivateTargets: settings.allowPrivateTargets,
      ...(settings.caFile === undefined ? {} : { caFile: settings.caFile }),
    };
  },
};
