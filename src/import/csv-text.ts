// Writing CSV (RFC 4180): fields are quoted only when they need it; lines end with LF.

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export const csvField = (value: string | number | boolean | null | undefined): string => {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** One CSV line, with its trailing newline. */
export const csvLine = (cells: readonly (string | number | boolean | null | undefined)[]): string =>
  `${cells.map(csvField).join(',')}\n`;
