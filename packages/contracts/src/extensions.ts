import { z } from 'zod';

/** The extensions this EMS loaded (EMS_EXTENSIONS): optional services that join the flow by subscribing. */
export { ExtensionPaths } from './paths.ts';

export const ExtensionInfo = z
  .object({
    /** The module named in EMS_EXTENSIONS, e.g. @ems/assets. */
    module: z.string(),
    /** The service's own name (its database schema and role). */
    name: z.string(),
    /** The module's package version, when its package.json says. */
    version: z.string().nullable(),
    description: z.string().nullable(),
    /** Each subscriber and the event types it receives. */
    subscribes: z.array(z.object({ subscriber: z.string(), eventTypes: z.array(z.string()) })),
    /** Event types it publishes (in the AsyncAPI document too). */
    publishes: z.array(z.string()),
    /** The API operations it adds, with who may call them (its rows of the policy table). */
    operations: z.array(
      z.object({
        operationId: z.string(),
        method: z.string().nullable(),
        path: z.string().nullable(),
        what: z.string(),
        roles: z.array(z.object({ role: z.string(), rows: z.string() })),
      }),
    ),
  })
  .meta({ id: 'ExtensionInfo' });
export type ExtensionInfo = z.infer<typeof ExtensionInfo>;

export const ExtensionList = z.object({ items: z.array(ExtensionInfo) }).meta({ id: 'ExtensionList' });
export type ExtensionList = z.infer<typeof ExtensionList>;
