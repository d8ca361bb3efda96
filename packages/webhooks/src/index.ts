export { createWebhookService, WEBHOOKS_SCHEMA, type WebhookService, type WebhookServiceDeps } from './webhooks.service.ts';
export { verifyWebhookSignature, signWebhook, webhookSignature, newWebhookSecret, WEBHOOK_HEADERS, DEFAULT_TOLERANCE_SECONDS, type VerifyOptions, type WebhookHeaderSource } from '@ems/platform';
export { type SecretsCipher } from './domain/secret-at-rest.ts';
export { checkWebhookTarget, isInternalAddress, addressHazard, hostHazard } from '@ems/platform';
export { systemResolver, type HostResolver, type ResolvedAddress } from '@ems/platform';
export { webhookSubscriberName } from './deliver-event/deliver-when-event-published.ts';
export { CLOUDEVENTS_JSON } from './deliver-event/deliver-event.ts';
export { WebhooksConfigSchema, webhooksConfig, type WebhooksConfig } from './config.ts';
export {
  Webhook,
  RegisteredWebhook,
  RegisterWebhookRequest,
  WebhookList,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryListQuery,
  DeliveryOutcome,
  WebhookPaths,
} from './api.ts';
