import type { IsoDate } from './types';

// Calendar arithmetic on ISO dates, in UTC so that no zone or daylight-saving shift can move a day.
const MS_PER_DAY = 86_400_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date in `YYYY-MM-DD` (rejects 2024-02-30). */
export const isIsoDate = (text: string): boolean => {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // There is no year 0 in the calendar (nor in PostgreSQL): 1 BC is followed by AD 1.
  return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
};

export const toDayNumber = (date: IsoDate): number => Date.parse(`${date}T00:00:00Z`) / MS_PER_DAY;

export const fromDayNumber = (day: number): IsoDate => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);

/** b − a in whole days (positive when b is later). */
export const daysBetween = (a: IsoDate, b: IsoDate): number => toDayNumber(b) - toDayNumber(a);

export const addDays = (date: IsoDate, days: number): IsoDate => fromDayNumber(toDayNumber(date) + days);

export const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

export const daysInMonth = (year: number, month: number): number =>
  [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;

/** The first day of the month holding `date`, moved by `monthsBack` whole months into the past. */
export const monthStart = (date: IsoDate, monthsBack = 0): IsoDate => {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7)) - 1 - monthsBack;
  const y = year + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  return `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-01`;
};

export const maxDate = (a: IsoDate, b: IsoDate): IsoDate => (a > b ? a : b);
export const minDate = (a: IsoDate, b: IsoDate): IsoDate => (a < b ? a : b);
