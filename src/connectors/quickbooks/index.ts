export { createQuickBooksClient, MINOR_VERSION, QuickBooksFault, type QuickBooksClient, type QuickBooksClientOptions } from './client';
export { CDC_LIMIT, CDC_LOOKBACK_MS, createQuickBooksConnector, ENTITIES, MAX_PAGE_SIZE, type QuickBooksConnectorOptions } from './connector';
export { verifyQuickBooksWebhook } from './webhook';
