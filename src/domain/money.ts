// Money is integer minor units plus an ISO 4217 code. Amounts of different currencies are never added.

/** Minor-unit exponents that differ from the default of 2 (ISO 4217). */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export const isCurrencyCode = (code: string): boolean => /^[A-Z]{3}$/.test(code);

export const currencyExponent = (currency: string): number => EXPONENTS[currency] ?? 2;

/**
 * Parses a decimal amount ("1,234.50", "-12", "1234.5") into integer minor units without floating point.
 * Returns null when the text is not a plain decimal or has more fraction digits than the currency allows.
 */
export const parseMinor = (text: string, currency: string): number | null => {
  const cleaned = text.trim().replace(/[,\s_]/g, '');
  const match = /^([+-])?(\d+)(?:\.(\d*))?$/.exec(cleaned) ?? /^([+-])?()\.(\d+)$/.exec(cleaned);
  if (!match) return null;
  const [, sign, whole = '', fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > exponent) return null;
  const digits = (whole || '0') + fraction.padEnd(exponent, '0').slice(0, exponent);
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) return null;
  return sign === '-' ? -value : value;
};

/** Formats minor units as a plain decimal string ("1234.50", "-0.05", "1200" for JPY). */
export const formatMinor = (minor: number, currency: string): string => {
  const exponent = currencyExponent(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
};
