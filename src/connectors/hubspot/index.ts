export { createHubSpotConnector, type HubSpotConnector, type HubSpotConnectorOptions, type HubSpotPullStats } from './connector';
export { HUBSPOT_SOURCE, INVOICES_STREAM, parseCursor, type InvoiceCursor } from './cursor';
export {
  cumulativeOfPaymentId, derivedPayments, hubspotCalendarDate, hubspotTimestamp, INVOICE_PROPERTIES, modifiedAtOf, PAID_PREFIX, paidPaymentId,
  parseInvoice, paymentChanges, type InvoiceObject, type ParsedInvoice, type ParseOutcome, type RecordedInvoice,
} from './mapping';
