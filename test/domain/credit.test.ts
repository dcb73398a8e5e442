import { describe, expect, it } from '@jest/globals';
import { creditCheck } from '../../src/domain/credit';

describe('creditCheck', () => {
  it('adds only the part of the deal not yet invoiced to what is outstanding', () => {
    // Limit 10,000.00; outstanding 6,000.00; deal 5,000.00 of which 1,000.00 invoiced (already in outstanding).
    expect(creditCheck({ limitMinor: 1_000_000, outstandingMinor: 600_000, dealMinor: 500_000, invoicedOnDealMinor: 100_000 }))
      .toEqual({ limitMinor: 1_000_000, outstandingMinor: 600_000, uninvoicedDealMinor: 400_000, totalMinor: 1_000_000, utilisation: 1, exceeds: false });
    expect(creditCheck({ limitMinor: 1_000_000, outstandingMinor: 600_001, dealMinor: 500_000, invoicedOnDealMinor: 100_000 }).exceeds).toBe(true);
  });

  it('never counts a deal invoiced beyond its amount as negative, and has no utilisation for a zero limit', () => {
    const check = creditCheck({ limitMinor: 0, outstandingMinor: 5, dealMinor: 100, invoicedOnDealMinor: 300 });
    expect(check).toMatchObject({ uninvoicedDealMinor: 0, totalMinor: 5, utilisation: null, exceeds: true });
  });
});
