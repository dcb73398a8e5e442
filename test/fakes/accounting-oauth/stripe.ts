/**
 * The fake Stripe the connect flow checks keys against (`GET /v1/account`, `GET /v1/invoices`) is the full fake
 * in test/fakes/stripe; this module keeps its old import path.
 */
export { startFakeStripe, type FakeStripe, type FakeStripeKey } from '../stripe';
