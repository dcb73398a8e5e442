import { describe, expect, it } from '@jest/globals';
import { compileDateFormat } from '../../src/import/date-format';

describe('compileDateFormat', () => {
  it('reads ISO dates by default format and rejects impossible days', () => {
    const iso = compileDateFormat('YYYY-MM-DD');
    expect(iso.read('2024-02-29')).toBe('2024-02-29');
    expect(iso.read('2023-02-29')).toBeNull();
    expect(iso.read('2024-13-01')).toBeNull();
    expect(iso.read('2024/02/01')).toBeNull();
    expect(iso.read('')).toBeNull();
  });

  it('reads US, European and dotted formats with one- or two-digit parts', () => {
    expect(compileDateFormat('M/D/YYYY').read('3/7/2024')).toBe('2024-03-07');
    expect(compileDateFormat('M/D/YYYY').read('12/31/2024')).toBe('2024-12-31');
    expect(compileDateFormat('MM/DD/YYYY').read('03/07/2024')).toBe('2024-03-07');
    expect(compileDateFormat('DD/MM/YYYY').read('07/03/2024')).toBe('2024-03-07');
    expect(compileDateFormat('DD.MM.YYYY').read('31.12.2023')).toBe('2023-12-31');
    expect(compileDateFormat('D-M-YY').read('5-1-24')).toBe('2024-01-05');
  });

  it('rejects dates that do not exist in the calendar, in any order of parts', () => {
    expect(compileDateFormat('DD/MM/YYYY').read('31/02/2024')).toBeNull();
    expect(compileDateFormat('M/D/YYYY').read('31/02/2024')).toBeNull();
    expect(compileDateFormat('M/D/YYYY').read('2/30/2024')).toBeNull();
    expect(compileDateFormat('DD.MM.YYYY').read('00.01.2024')).toBeNull();
  });

  it('reads month names and abbreviations', () => {
    expect(compileDateFormat('D MMM YYYY').read('5 Jan 2024')).toBe('2024-01-05');
    expect(compileDateFormat('D MMM YYYY').read('5 sept. 2024')).toBe('2024-09-05');
    expect(compileDateFormat('MMM D, YYYY').read('February 29, 2024')).toBe('2024-02-29');
    expect(compileDateFormat('DD-MMM-YY').read('01-Foo-24')).toBeNull();
  });

  it('splits compact formats by width', () => {
    const compact = compileDateFormat('YYYYMMDD');
    expect(compact.read('20240305')).toBe('2024-03-05');
    expect(compact.read('2024035')).toBeNull();
  });

  it('ignores a time of day appended by spreadsheet exports', () => {
    expect(compileDateFormat('YYYY-MM-DD').read('2024-03-05 00:00:00')).toBe('2024-03-05');
    expect(compileDateFormat('YYYY-MM-DD').read('2024-03-05T13:45:00Z')).toBe('2024-03-05');
    expect(compileDateFormat('M/D/YYYY').read('3/5/2024 12:00 AM')).toBe('2024-03-05');
    expect(compileDateFormat('YYYY-MM-DD').read('2024-03-05 noon')).toBeNull();
  });

  it('refuses formats it cannot read', () => {
    expect(() => compileDateFormat('YYYY-MM')).toThrow(/exactly one year/);
    expect(() => compileDateFormat('YYYY_MM_DD')).toThrow(/not understood at "_MM_DD"/);
    expect(() => compileDateFormat('DD/MM/YYYY/YY')).toThrow(/exactly one year/);
  });
});
