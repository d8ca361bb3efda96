export { OperationsPage } from './overview.tsx';
export { DeadLetterPage, DeadLettersPage } from './dead-letters.tsx';
export { WebhookPage, WebhooksPage } from './webhooks.tsx';
export { ExtensionsPage } from './extensions.tsx';
