import { daysInMonth } from '../domain/calendar';
import type { IsoDate } from '../domain/types';

/** Reads dates written in one spreadsheet date format into ISO `YYYY-MM-DD`. */
export type DateReader = {
  readonly format: string;
  /** The ISO date, or null when the text is not a real calendar date in this format. */
  read: (text: string) => IsoDate | null;
};

export const DEFAULT_DATE_FORMAT = 'YYYY-MM-DD';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = [
  'january', 'february', 'march', 'april', 'may', 'june',
  'july', 'august', 'september', 'october', 'november', 'december',
];

const monthFromName = (name: string): number => {
  const lower = name.toLowerCase();
  const short = MONTHS.indexOf(lower);
  if (short >= 0) return short + 1;
  if (lower === 'sept') return 9;
  return MONTH_NAMES.indexOf(lower) + 1; // 0 when unknown
};

type Part = 'year4' | 'year2' | 'month' | 'monthName' | 'day';

// Longest tokens first so that `MMMM` is not read as `MM` + `MM`.
const TOKENS: readonly (readonly [string, Part])[] = [
  ['YYYY', 'year4'], ['MMMM', 'monthName'], ['MMM', 'monthName'], ['YY', 'year2'],
  ['MM', 'month'], ['DD', 'day'], ['M', 'month'], ['D', 'day'],
];

const SEPARATORS = new Set(['/', '-', '.', ' ', ',']);

// Spreadsheet exports often append a time of day ("2024-03-01 00:00:00", "3/1/2024 12:00 AM"); it is ignored.
const TIME_SUFFIX = String.raw`(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?`;

const MEMO_LIMIT = 100_000;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles a date format such as `YYYY-MM-DD`, `M/D/YYYY`, `DD.MM.YYYY`, `D MMM YYYY` or `YYYYMMDD`.
 * Tokens: YYYY, YY (20YY), MM/M (month, one or two digits), DD/D (day), MMM/MMMM (English month name or
 * abbreviation); separators: / - . , and space. Throws on a format it cannot read.
 */
export const compileDateFormat = (format: string): DateReader => {
  const parts: Part[] = [];
  const segments: ({ part: Part } | { literal: string })[] = [];
  let rest = format.trim();
  let tokensWithoutSeparator = false;
  while (rest.length > 0) {
    const token = TOKENS.find(([t]) => rest.startsWith(t));
    if (token) {
      const previous = segments[segments.length - 1];
      if (previous && 'part' in previous) tokensWithoutSeparator = true;
      parts.push(token[1]);
      segments.push({ part: token[1] });
      rest = rest.slice(token[0].length);
      continue;
    }
    const ch = rest[0] ?? '';
    if (!SEPARATORS.has(ch)) {
      throw new Error(
        `date format "${format}" is not understood at "${rest}": use YYYY, YY, MM, M, DD, D, MMM with separators / - . , or space`,
      );
    }
    segments.push({ literal: ch });
    rest = rest.slice(1);
  }
  const count = (wanted: (p: Part) => boolean): number => parts.filter(wanted).length;
  if (count((p) => p === 'year4' || p === 'year2') !== 1 || count((p) => p === 'month' || p === 'monthName') !== 1
    || count((p) => p === 'day') !== 1) {
    throw new Error(`date format "${format}" must hold exactly one year (YYYY or YY), one month (MM, M or MMM) and one day (DD or D)`);
  }
  // Without separators ("YYYYMMDD") the digits can only be split by width.
  const flexible = tokensWithoutSeparator ? '(\\d{2})' : '(\\d{1,2})';
  const source = segments.map((segment) => {
    if ('literal' in segment) return segment.literal === ' ' ? '\\s+' : escapeRegExp(segment.literal);
    switch (segment.part) {
      case 'year4': return '(\\d{4})';
      case 'year2': return '(\\d{2})';
      case 'monthName': return '([A-Za-z]{3,9})\\.?';
      default: return flexible;
    }
  }).join('');
  const regex = new RegExp(`^${source}${TIME_SUFFIX}$`);

  const readUncached = (text: string): IsoDate | null => {
    const match = regex.exec(text.trim());
    if (!match) return null;
    let year = 0;
    let month = 0;
    let day = 0;
    for (let i = 0; i < parts.length; i += 1) {
      const value = match[i + 1] ?? '';
      switch (parts[i]) {
        case 'year4': year = Number(value); break;
        case 'year2': year = 2000 + Number(value); break;
        case 'month': month = Number(value); break;
        case 'monthName': month = monthFromName(value); break;
        case 'day': day = Number(value); break;
        default: break;
      }
    }
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  };

  // Files repeat the same few hundred dates: remembering them saves work and lets rows share one string.
  const seen = new Map<string, IsoDate | null>();
  const read = (text: string): IsoDate | null => {
    const known = seen.get(text);
    if (known !== undefined) return known;
    const date = readUncached(text);
    if (seen.size < MEMO_LIMIT) seen.set(text, date);
    return date;
  };
  return { format: format.trim(), read };
};
