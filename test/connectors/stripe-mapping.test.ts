import { describe, expect, it } from '@jest/globals';
import { EVENT_RETENTION_SECONDS, isStale, parseCursor, type StripeCursor } from '../../src/connectors/stripe/cursor';
import { applyRefund, toMinor } from '../../src/connectors/stripe/mapping';
import { SourceError } from '../../src/connectors/types';

describe('Stripe amounts', () => {
  it('are ISO minor units where Stripe and ISO 4217 agree, and converted where they do not', () => {
    expect(toMinor(1_234, 'USD')).toBe(1_234);
    expect(toMinor(5_000, 'JPY')).toBe(5_000);
    expect(toMinor(12_340, 'KWD')).toBe(12_340);
    // ISK: two decimals in Stripe's API (500 is 5 krónur), none in ISO 4217.
    expect(toMinor(500, 'ISK')).toBe(5);
    // MGA: zero-decimal in Stripe, two decimals in ISO 4217.
    expect(toMinor(1_500, 'MGA')).toBe(150_000);
  });
});

describe('refunds taken off allocations', () => {
  const allocations = [{ invoiceId: 'in_a', amountMinor: 100 }, { invoiceId: 'in_b', amountMinor: 50 }, { invoiceId: 'in_c', amountMinor: 30 }];

  it('come off the latest allocation first, dropping those that reach zero', () => {
    expect(applyRefund(allocations, 40)).toEqual([{ invoiceId: 'in_a', amountMinor: 100 }, { invoiceId: 'in_b', amountMinor: 40 }]);
    expect(applyRefund(allocations, 180)).toEqual([]);
  });

  it('come off the invoice a credit note refunded first', () => {
    expect(applyRefund(allocations, 40, new Map([['in_a', 25]]))).toEqual([
      { invoiceId: 'in_a', amountMinor: 75 }, { invoiceId: 'in_b', amountMinor: 50 }, { invoiceId: 'in_c', amountMinor: 15 },
    ]);
  });
});

describe('Stripe cursor', () => {
  const cursor: StripeCursor = { v: 1, phase: 'events', starting_after: null, last_event_id: 'evt_1', last_event_created: 1_000_000, caught_up_at: 2_000_000 };

  it('round-trips and names the field that is wrong', () => {
    expect(parseCursor(JSON.stringify(cursor))).toEqual(cursor);
    expect(parseCursor(null)).toBeNull();
    const wrong = (text: string): SourceError => {
      try {
        parseCursor(text);
      } catch (error) {
        return error as SourceError;
      }
      throw new Error('accepted');
    };
    expect(wrong('not json')).toMatchObject({ retryable: false, message: 'The Stripe cursor is not JSON' });
    expect(wrong(JSON.stringify({ ...cursor, last_event_id: 'in_1' })).message).toMatch(/last_event_id: must be an event id/);
    expect(wrong(JSON.stringify({ ...cursor, extra: 1 })).message).toMatch(/cursor is not valid/);
  });

  it('is stale when neither its last event nor its last catch-up is within the 30 days Stripe keeps events', () => {
    const hour = 3_600;
    expect(isStale(cursor, 2_000_000 + EVENT_RETENTION_SECONDS - 2 * hour)).toBe(false);
    expect(isStale(cursor, 2_000_000 + EVENT_RETENTION_SECONDS)).toBe(true);
    expect(isStale({ ...cursor, last_event_created: 3_000_000 }, 2_000_000 + EVENT_RETENTION_SECONDS)).toBe(false);
  });
});
