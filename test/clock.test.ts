import { describe, expect, it } from '@jest/globals';
import { today } from '../src/clock';

describe('today', () => {
  it('is the local calendar date, not the UTC one', () => {
    // 23:30 local time on 31 Dec is still 31 Dec here, whatever the zone's offset from UTC.
    expect(today(new Date(2025, 11, 31, 23, 30))).toBe('2025-12-31');
    expect(today(new Date(2024, 1, 29, 0, 5))).toBe('2024-02-29');
  });
});
