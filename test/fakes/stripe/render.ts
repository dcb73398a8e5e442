import {
  amountDue, amountRemaining, type AccountData, type AnyRecord, type ChargeRecord, type CreditNoteRecord,
  type CustomerRecord, type EventRecord, type InvoicePaymentRecord, type InvoiceRecord, type Kind, type LineRecord,
  type PaymentIntentRecord, type RefundRecord,
} from './state';

/**
 * Stripe's full object shapes (API 2026-10-28.endive) from the fake's compact records: every field Stripe's own
 * example objects have (test/fakes/stripe.test.ts checks them against stripe/openapi's fixtures3.json), with the
 * values the records give and Stripe's defaults for what the fake does not model.
 */

export const API_VERSION = '2026-10-28.endive';

type Json = Record<string, unknown>;

const ADDRESS_NULL = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };

/** Invoices embed their first lines; more come from /v1/invoices/:id/lines. */
export const EMBEDDED_LINES = 10;

export const list = (url: string, data: unknown[], hasMore: boolean): Json => ({ object: 'list', data, has_more: hasMore, url });

export const renderCustomer = (c: CustomerRecord): Json => (c.deleted ? { id: c.id, object: 'customer', deleted: true } : {
  id: c.id, object: 'customer', address: c.country ? { ...ADDRESS_NULL, country: c.country } : null, balance: c.balance,
  created: c.created, currency: c.currency, default_source: null, delinquent: false, description: null, discount: null,
  email: c.email, invoice_prefix: c.id.slice(-7).toUpperCase(),
  invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
  livemode: false, metadata: {}, name: c.name, next_invoice_sequence: 1, phone: null, preferred_locales: [],
  shipping: null, tax_exempt: 'none', test_clock: null,
});

export const renderLine = (invoice: InvoiceRecord, l: LineRecord): Json => ({
  id: l.id, object: 'line_item', amount: l.amount, currency: invoice.currency, description: l.description,
  discount_amounts: [], discountable: true, discounts: [], invoice: invoice.id, livemode: false, metadata: {},
  parent: {
    type: 'invoice_item_details',
    invoice_item_details: { invoice_item: `ii_${l.id.slice(3)}`, proration: false, proration_details: { credited_items: null }, subscription: null },
    subscription_item_details: null,
  },
  period: { end: invoice.created, start: invoice.created },
  pretax_credit_amounts: [],
  pricing: l.price || l.product
    ? { type: 'price_details', price_details: { price: l.price ?? `price_${l.id.slice(3)}`, product: l.product ?? `prod_${l.id.slice(3)}` }, unit_amount_decimal: String(l.quantity ? l.amount / l.quantity : l.amount) }
    : null,
  quantity: l.quantity, quantity_decimal: String(l.quantity), subscription: null, subtotal: l.amount,
  taxes: l.tax > 0
    ? [{ amount: l.tax, tax_behavior: 'exclusive', tax_rate_details: { tax_rate: 'txr_1FakeStandard0001' }, taxability_reason: 'standard_rated', taxable_amount: l.amount, type: 'tax_rate_details' }]
    : [],
});

export const renderInvoice = (account: AccountData, i: InvoiceRecord): Json => {
  const customer = account.customers.get(i.customer);
  const subtotal = i.lines.reduce((sum, l) => sum + l.amount, 0);
  const tax = i.total - subtotal;
  const finalized = i.status !== 'draft' && i.status !== 'deleted';
  return {
    id: i.id, object: 'invoice', account_country: 'US', account_name: account.name, account_tax_ids: null,
    amount_due: amountDue(i), amount_overpaid: Math.max(0, i.amount_paid - amountDue(i)), amount_paid: i.amount_paid,
    amount_paid_off_stripe: i.amount_paid_off_stripe, amount_remaining: amountRemaining(i), amount_shipping: 0,
    application: null, attempt_count: 0, attempted: finalized && i.collection_method === 'charge_automatically',
    auto_advance: i.status === 'draft',
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null, billing_reason: 'manual', collection_method: i.collection_method,
    created: i.created, currency: i.currency, custom_fields: null, customer: i.customer, customer_account: null,
    customer_address: customer?.country ? { ...ADDRESS_NULL, country: customer.country } : null,
    customer_email: customer?.email ?? null, customer_name: customer?.name ?? null, customer_phone: null,
    customer_shipping: null, customer_tax_exempt: 'none', customer_tax_ids: [], default_payment_method: null,
    default_source: null, default_tax_rates: [], description: null, discounts: [], due_date: i.due_date,
    effective_at: i.effective_at, ending_balance: i.ending_balance, footer: null, from_invoice: null,
    hosted_invoice_url: finalized ? `https://invoice.stripe.com/i/${account.id}/${i.id}` : null,
    invoice_pdf: finalized ? `https://pay.stripe.com/invoice/${account.id}/${i.id}/pdf` : null,
    issuer: { type: 'self' }, last_finalization_error: null, latest_revision: null,
    lines: list(`/v1/invoices/${i.id}/lines`, i.lines.slice(0, EMBEDDED_LINES).map((l) => renderLine(i, l)), i.lines.length > EMBEDDED_LINES),
    livemode: false, metadata: {}, next_payment_attempt: null, number: i.number, on_behalf_of: null, parent: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: i.created, period_start: i.created,
    post_payment_credit_notes_amount: i.post_payment_credit_notes_amount,
    pre_payment_credit_notes_amount: i.pre_payment_credit_notes_amount, receipt_number: null,
    rendering: null, shipping_cost: null, shipping_details: null, starting_balance: i.starting_balance,
    statement_descriptor: null, status: i.status === 'deleted' ? 'draft' : i.status,
    status_transitions: { finalized_at: i.finalized_at, marked_uncollectible_at: i.marked_uncollectible_at, paid_at: i.paid_at, voided_at: i.voided_at },
    subscription: null, subtotal, subtotal_excluding_tax: subtotal, test_clock: null, total: i.total,
    total_discount_amounts: [], total_excluding_tax: subtotal, total_pretax_credit_amounts: [],
    total_taxes: tax > 0 ? [{ amount: tax, tax_behavior: 'exclusive', tax_rate_details: { tax_rate: 'txr_1FakeStandard0001' }, taxability_reason: 'standard_rated', taxable_amount: subtotal, type: 'tax_rate_details' }] : [],
    webhooks_delivered_at: finalized ? i.finalized_at : null,
  };
};

export const renderInvoicePayment = (p: InvoicePaymentRecord): Json => ({
  id: p.id, object: 'invoice_payment', amount_paid: p.amount_paid, amount_requested: p.amount_requested,
  created: p.created, currency: p.currency, invoice: p.invoice, is_default: p.is_default, livemode: false,
  payment: { type: p.payment.type, [p.payment.type]: p.payment.id },
  status: p.status, status_transitions: { canceled_at: p.canceled_at, paid_at: p.paid_at },
});

export const renderPaymentIntent = (p: PaymentIntentRecord): Json => ({
  id: p.id, object: 'payment_intent', amount: p.amount, amount_capturable: 0,
  amount_details: { tip: {} }, amount_received: p.amount_received, application: null,
  application_fee_amount: null, automatic_payment_methods: null, canceled_at: null, cancellation_reason: null,
  capture_method: 'automatic', client_secret: `${p.id}_secret_fake`, confirmation_method: 'automatic',
  created: p.created, currency: p.currency, customer: p.customer, customer_account: null, description: null,
  excluded_payment_method_types: null, last_payment_error: null, latest_charge: p.latest_charge, livemode: false,
  managed_payments: null, metadata: {}, next_action: null, on_behalf_of: null, payment_method: null,
  payment_method_configuration_details: null, payment_method_options: {}, payment_method_types: ['card'],
  processing: null, receipt_email: null, review: null, setup_future_usage: null, shipping: null, source: null,
  statement_descriptor: null, statement_descriptor_suffix: null, status: p.status, transfer_data: null,
  transfer_group: null,
});

export const renderCharge = (account: AccountData, c: ChargeRecord): Json => {
  const refunds = [...(account.refundsByCharge.get(c.id) ?? [])].reverse();
  return {
    id: c.id, object: 'charge', amount: c.amount, amount_captured: c.amount_captured, amount_refunded: c.amount_refunded,
    application: null, application_fee: null, application_fee_amount: null, balance_transaction: `txn_${c.id.slice(3)}`,
    billing_details: { address: ADDRESS_NULL, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'ARBRIDGE', captured: true, created: c.created, currency: c.currency,
    customer: c.customer, description: null, disputed: c.disputed, failure_balance_transaction: null,
    failure_code: null, failure_message: null, fraud_details: {}, livemode: false, metadata: {}, on_behalf_of: null,
    outcome: { advice_code: null, network_advice_code: null, network_decline_code: null, network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' },
    paid: c.status === 'succeeded', payment_intent: c.payment_intent, payment_method: `pm_${c.id.slice(3)}`,
    payment_method_details: {
      type: 'card',
      card: {
        amount_authorized: c.amount, authorization_code: '123456', brand: 'visa',
        checks: { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: 'pass' }, country: 'US',
        exp_month: 12, exp_year: 2030, extended_authorization: { status: 'disabled' }, fingerprint: 'ARBridgeFakeCard',
        funding: 'credit', incremental_authorization: { status: 'unavailable' }, installments: null, last4: '4242', mandate: null,
        multicapture: { status: 'unavailable' }, network: 'visa', network_token: { used: false },
        network_transaction_id: `ntx_${c.id.slice(3)}`, overcapture: { maximum_amount_capturable: c.amount, status: 'unavailable' },
        regulated_status: 'unregulated', three_d_secure: null, transaction_link_id: null, wallet: null,
      },
    },
    receipt_email: null, receipt_number: null, receipt_url: `https://pay.stripe.com/receipts/${c.id}`,
    refunded: c.amount_refunded >= c.amount_captured && c.amount_captured > 0,
    refunds: list(`/v1/charges/${c.id}/refunds`, refunds.map(renderRefund), false),
    review: null, shipping: null, source: null, source_transfer: null, statement_descriptor: null,
    statement_descriptor_suffix: null, status: c.status, transfer_data: null, transfer_group: null,
  };
};

export const renderRefund = (r: RefundRecord): Json => ({
  id: r.id, object: 'refund', amount: r.amount, balance_transaction: `txn_${r.id.slice(3)}`, charge: r.charge,
  created: r.created, currency: r.currency, customer: null, customer_account: null,
  destination_details: { type: 'card', card: { type: 'refund', reference_status: 'pending', reference_type: 'acquirer_reference_number' } },
  metadata: {}, payment_intent: r.payment_intent, payment_method: null, reason: r.reason, receipt_number: null,
  source_transfer_reversal: null, status: r.status, transfer_reversal: null,
});

export const renderCreditNote = (account: AccountData, n: CreditNoteRecord): Json => ({
  id: n.id, object: 'credit_note', amount: n.total, amount_shipping: 0, created: n.created, currency: n.currency,
  customer: n.customer, customer_account: null,
  customer_balance_transaction: n.credit_amount > 0 ? `cbtxn_${n.id.slice(3)}` : null, discount_amount: 0,
  discount_amounts: [], effective_at: n.effective_at, invoice: n.invoice,
  lines: list(`/v1/credit_notes/${n.id}/lines`, [{
    id: `cnli_${n.id.slice(3)}`, object: 'credit_note_line_item', amount: n.total, description: n.memo ?? 'Credit',
    discount_amount: 0, discount_amounts: [], invoice_line_item: null, livemode: false, metadata: {},
    pretax_credit_amounts: [], quantity: 1, tax_rates: [], taxes: [], type: 'custom_line_item', unit_amount: n.total,
    unit_amount_decimal: String(n.total),
  }], false),
  livemode: false, memo: n.memo, metadata: {}, number: n.number, out_of_band_amount: n.out_of_band_amount,
  pdf: `https://pay.stripe.com/credit_notes/${account.id}/${n.id}/pdf`, post_payment_amount: n.post_payment_amount,
  pre_payment_amount: n.pre_payment_amount, pretax_credit_amounts: [], reason: n.reason,
  refunds: n.refunds.map((r) => ({ amount_refunded: r.amount_refunded, payment_record_refund: null, refund: r.refund, type: 'refund' })),
  shipping_cost: null, status: n.status, subtotal: n.total, subtotal_excluding_tax: n.total, total: n.total,
  total_excluding_tax: n.total, total_taxes: [], type: n.type, voided_at: n.voided_at,
});

export const renderRecord = (account: AccountData, kind: Kind, record: AnyRecord): Json => {
  switch (kind) {
    case 'customer': return renderCustomer(record as CustomerRecord);
    case 'invoice': return renderInvoice(account, record as InvoiceRecord);
    case 'invoice_payment': return renderInvoicePayment(record as InvoicePaymentRecord);
    case 'payment_intent': return renderPaymentIntent(record as PaymentIntentRecord);
    case 'charge': return renderCharge(account, record as ChargeRecord);
    case 'refund': return renderRefund(record as RefundRecord);
    case 'credit_note': return renderCreditNote(account, record as CreditNoteRecord);
  }
};

export const renderEvent = (account: AccountData, e: EventRecord): Json => {
  // A deleted customer's event still shows the customer as it was.
  const object = e.kind === 'customer' ? renderCustomer({ ...(e.object as CustomerRecord), deleted: false }) : renderRecord(account, e.kind, e.object);
  return {
    id: e.id, object: 'event', ...(e.account ? { account: e.account } : {}), api_version: API_VERSION, created: e.created,
    data: { object: JSON.parse(JSON.stringify(object)) as Json, ...(e.previous ? { previous_attributes: e.previous } : {}) },
    livemode: false, pending_webhooks: 0, request: { id: null, idempotency_key: null }, type: e.type,
  };
};

export const renderAccount = (account: AccountData, spec: { displayName?: string | null; businessName?: string | null; email?: string | null }): Json => ({
  id: account.id, object: 'account',
  business_profile: {
    annual_revenue: null, estimated_worker_count: null, mcc: null, minority_owned_business_designation: null,
    name: spec.businessName ?? null, product_description: null, support_address: null, support_email: null,
    support_phone: null, support_url: null, url: null,
  },
  business_type: 'company', capabilities: { card_payments: 'active', transfers: 'active' }, charges_enabled: true,
  controller: { type: 'account' }, country: 'US', created: 1_700_000_000, default_currency: 'usd',
  details_submitted: true, email: spec.email ?? null,
  external_accounts: list(`/v1/accounts/${account.id}/external_accounts`, [], false),
  future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
  metadata: {}, payouts_enabled: true,
  requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
  settings: {
    bacs_debit_payments: { display_name: null, service_user_number: null },
    branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
    card_issuing: { tos_acceptance: { date: null, ip: null } },
    card_payments: { decline_on: { avs_failure: false, cvc_failure: true }, statement_descriptor_prefix: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
    dashboard: { display_name: spec.displayName ?? null, timezone: 'Etc/UTC' },
    invoices: { default_account_tax_ids: null, hosted_payment_method_save: 'offer' },
    payments: { statement_descriptor: 'ARBRIDGE', statement_descriptor_kana: null, statement_descriptor_kanji: null, statement_descriptor_prefix_kana: null, statement_descriptor_prefix_kanji: null },
    payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'daily' }, statement_descriptor: null },
    sepa_debit_payments: {},
  },
  tos_acceptance: { date: 1_700_000_000, ip: null, user_agent: null }, type: 'standard',
});

export const renderBalance = (account: AccountData): Json => {
  const byCurrency = new Map<string, number>();
  for (const c of account.charges.items) byCurrency.set(c.currency, (byCurrency.get(c.currency) ?? 0) + c.amount_captured - c.amount_refunded);
  if (byCurrency.size === 0) byCurrency.set('usd', 0);
  return {
    object: 'balance', livemode: false,
    available: [...byCurrency].map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } })),
    connect_reserved: [...byCurrency.keys()].map((currency) => ({ amount: 0, currency })),
    pending: [...byCurrency.keys()].map((currency) => ({ amount: 0, currency, source_types: { card: 0 } })),
  };
};
