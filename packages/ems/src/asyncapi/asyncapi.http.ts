import type { App } from '@ems/platform';
import type { EventCatalogue } from '@ems/eventbus';
import { buildAsyncApi } from './asyncapi.ts';

export function asyncApiRoute(catalogue: EventCatalogue) {
  return async (app: App): Promise<void> => {
    // Built per request: extensions may have added their events to the catalogue at start-up.
    app.get('/asyncapi.json', { schema: { hide: true }, config: { public: true } }, async () => buildAsyncApi(catalogue));
  };
}
