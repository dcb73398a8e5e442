// Figures as people read them, in the HubSpot user's locale. Money arrives as decimal strings of its currency and is
// formatted from the string, never through a float.

const FALLBACK_LOCALE = 'en-US';

const numberFormat = (locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat => {
  try {
    return new Intl.NumberFormat(locale ?? FALLBACK_LOCALE, options);
  } catch {
    return new Intl.NumberFormat(FALLBACK_LOCALE, options);
  }
};

/** `"1234.50"`, `"USD"` → `$1,234.50` (en-US) or `1.234,50 $` (de-DE); an unknown currency code is written after the amount. */
export const formatMoney = (amount: string, currency: string, locale?: string): string => {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(locale ?? FALLBACK_LOCALE, { style: 'currency', currency });
  } catch {
    try {
      format = new Intl.NumberFormat(FALLBACK_LOCALE, { style: 'currency', currency });
    } catch {
      return `${amount} ${currency}`;
    }
  }
  return format.format(amount as Intl.StringNumericLiteral);
};

/** A 0–1 fraction as a whole percentage; `—` when undefined. */
export const formatRate = (rate: number | null, locale?: string): string =>
  rate === null ? '—' : numberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(rate);

/** Days with one decimal; `—` when undefined. */
export const formatDays = (days: number | null, locale?: string): string =>
  days === null ? '—' : `${numberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(days)} d`;

/** An ISO calendar date in the user's locale (the date itself, with no time zone shift). */
export const formatDate = (isoDate: string, locale?: string): string => {
  const date = new Date(`${isoDate}T00:00:00Z`);
  try {
    return new Intl.DateTimeFormat(locale ?? FALLBACK_LOCALE, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
  } catch {
    return isoDate;
  }
};

/** A whole number in the user's locale; `—` when undefined. */
export const formatCount = (value: number | null, locale?: string): string =>
  value === null ? '—' : numberFormat(locale, { maximumFractionDigits: 0 }).format(value);

/** Whether a decimal money string is zero (`"0"`, `"0.00"`, `"-0.00"`). */
export const isZeroAmount = (amount: string): boolean => /^-?0*(\.0*)?$/.test(amount);

/** A DateInput value (`month` from 0) as an ISO calendar date. */
export const dateInputToIso = (d: { year: number; month: number; date: number }): string =>
  `${String(d.year).padStart(4, '0')}-${String(d.month + 1).padStart(2, '0')}-${String(d.date).padStart(2, '0')}`;

/** An ISO calendar date as a DateInput value (`month` from 0). */
export const isoToDateInput = (iso: string): { year: number; month: number; date: number } => {
  const [year, month, date] = iso.split('-').map(Number) as [number, number, number];
  return { year, month: month - 1, date };
};
