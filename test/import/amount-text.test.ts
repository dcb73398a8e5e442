import { describe, expect, it } from '@jest/globals';
import { readDecimal } from '../../src/import/amount-text';

describe('readDecimal', () => {
  it('strips symbols and well-placed thousands separators', () => {
    expect(readDecimal('1,234.50')?.text).toBe('1234.50');
    expect(readDecimal('$1,234.50')?.text).toBe('1234.50');
    expect(readDecimal(' € 12 ')?.text).toBe('12');
    expect(readDecimal('1 234 567.8')?.text).toBe('1234567.8');
    expect(readDecimal('.5')?.text).toBe('0.5');
  });

  it('reads negatives written with a sign or accounting parentheses', () => {
    expect(readDecimal('-$12.00')).toEqual({ text: '-12.00', negative: true, fractionDigits: 0 });
    expect(readDecimal('$-12.5')).toEqual({ text: '-12.5', negative: true, fractionDigits: 1 });
    expect(readDecimal('(1,000.25)')).toEqual({ text: '-1000.25', negative: true, fractionDigits: 2 });
  });

  it('counts significant fraction digits only', () => {
    expect(readDecimal('12.300')?.fractionDigits).toBe(1);
    expect(readDecimal('12.345')?.fractionDigits).toBe(3);
  });

  it('rejects text that is not an amount, including a decimal comma', () => {
    for (const bad of ['', 'abc', '12,34', '1,23,456', '1.2.3', '$', '12 USD', '(-5)', '--5', '1e5']) {
      expect(readDecimal(bad)).toBeNull();
    }
  });
});
