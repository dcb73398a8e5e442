export { createStripeConnector, STRIPE_EVENT_TYPES, type StripeConnectorOptions } from './connector';
export { verifyStripeWebhook } from './webhook';
export { EVENT_RETENTION_SECONDS, isStale, parseCursor, type StripeCursor } from './cursor';
