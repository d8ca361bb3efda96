import { ProblemSchema, type App } from '@ems/platform';
import { extensions as api } from '@ems/contracts';
import type { Extension } from '@ems/eventbus';
import { describeExtensions, type RouteIndex } from './list-extensions.ts';

export function listExtensionsRoute(loaded: { modules: readonly string[]; extensions: readonly Extension[] }) {
  return async (app: App): Promise<void> => {
    // The extensions' routes are declared after EMS's: note where every operation is served as it is.
    const routes: RouteIndex = new Map();
    app.addHook('onRoute', (route) => {
      const operationId = (route.schema as { operationId?: unknown } | undefined)?.operationId;
      if (typeof operationId === 'string' && !routes.has(operationId)) routes.set(operationId, { method: [route.method].flat()[0]!, path: route.url });
    });
    app.get(
      api.ExtensionPaths.extensions,
      {
        schema: {
          operationId: 'listExtensions',
          tags: ['operations'],
          summary: 'The extensions this EMS loaded (EMS_EXTENSIONS): version, what each subscribes to and publishes, the operations it adds',
          response: { 200: api.ExtensionList, 401: ProblemSchema, 403: ProblemSchema },
        },
      },
      async () => ({ items: describeExtensions(loaded.modules, loaded.extensions, routes) }),
    );
  };
}
