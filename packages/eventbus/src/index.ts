export type { EventBus, TransactionLike, EventedService, EventBusTestHooks, Subscription, Lane, DeliveryContext, DeadLetter, DeadLetterStore, EventCatalogue, CloudEvent } from './port.ts';
export { createEvent, validateEvent, newTraceparent, childTraceparent, traceContextFromHeaders, type NewEvent, type TraceContext, type Validation } from './envelope.ts';
export { firstDeliveries, firstDelivery, processedEventsMigration } from './idempotency.ts';
export { handledTogether } from './together.ts';
export { nameUuid } from './name-uuid.ts';
export type { Extension, ExtensionDeps, ExtensionFactory } from './extension.ts';
export { createPostgresEventBus, type PostgresEventBusOptions } from './postgres/postgres-event-bus.ts';
export { createNatsEventBus, type NatsEventBusOptions } from './nats/nats-event-bus.ts';
export { installEventBus } from './install.ts';
