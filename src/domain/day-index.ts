import type { IsoDate } from './types';

// Allocation-free date arithmetic on `YYYY-MM-DD` strings for the hot loops of metrics and risk.
// Results equal calendar.ts (toDayNumber) for every valid date; inputs are not validated here.

const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;

/** Year of an ISO date. */
export const yearOf = (date: IsoDate): number =>
  digit(date, 0) * 1000 + digit(date, 1) * 100 + digit(date, 2) * 10 + digit(date, 3);

/** Month (1..12) of an ISO date. */
export const monthOf = (date: IsoDate): number => digit(date, 5) * 10 + digit(date, 6);

/** Day of month (1..31) of an ISO date. */
export const dayOfMonth = (date: IsoDate): number => digit(date, 8) * 10 + digit(date, 9);

/** Days since 1970-01-01 (same value as calendar.toDayNumber), from the proleptic Gregorian calendar. */
export const dayIndex = (date: IsoDate): number => {
  const month = monthOf(date);
  const y = yearOf(date) - (month <= 2 ? 1 : 0);
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + dayOfMonth(date) - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
};

/** Months since year 0 (year × 12 + month − 1): consecutive calendar months have consecutive indexes. */
export const monthIndex = (date: IsoDate): number => yearOf(date) * 12 + monthOf(date) - 1;
