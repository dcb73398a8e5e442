/** An amount cell reduced to a plain decimal: "-1234.50" for "($1,234.50)". */
export type DecimalText = {
  text: string; // sign, digits, optional fraction; no symbol, no separators
  negative: boolean;
  fractionDigits: number; // significant fraction digits (trailing zeros do not count)
};

const PLAIN = /^\d+(?:\.(\d+))?$/;
const SYMBOLS = /^[$€£¥₹]\s?/;
// Either plain digits, or digits grouped by thousands with commas (or spaces) throughout.
const NUMBER = /^(?:\d+|\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0]\d{3})+)?(?:\.(\d*))?$/;

/**
 * Reads an amount as spreadsheets and accounting exports write it: "1234.5", "1,234.50", "$1,234.50",
 * "-$12", "$-12", "(12.00)" (accounting negative). Thousands separators must be well placed, so a
 * decimal comma ("12,34") is rejected rather than read as 1234. Returns null when it is not an amount.
 */
export const readDecimal = (cell: string): DecimalText | null => {
  const plain = PLAIN.exec(cell);
  if (plain) {
    const fraction = plain[1] ?? '';
    return { text: cell, negative: false, fractionDigits: fraction.replace(/0+$/, '').length };
  }
  let text = cell.trim();
  let negative = false;
  if (text.startsWith('(') && text.endsWith(')')) {
    negative = true;
    text = text.slice(1, -1).trim();
  }
  let sign = /^[+-]/.exec(text)?.[0];
  if (sign) text = text.slice(1).trimStart();
  text = text.replace(SYMBOLS, '');
  if (!sign) {
    sign = /^[+-]/.exec(text)?.[0];
    if (sign) text = text.slice(1);
  }
  if (sign === '-') {
    if (negative) return null; // "(-12)" is ambiguous
    negative = true;
  }
  const match = NUMBER.exec(text);
  if (!match || !/\d/.test(text)) return null;
  const [whole = '', fraction = ''] = text.replace(/[, \u00a0]/g, '').split('.');
  const significant = fraction.replace(/0+$/, '');
  const digits = `${whole || '0'}${fraction ? `.${fraction}` : ''}`;
  return { text: negative ? `-${digits}` : digits, negative, fractionDigits: significant.length };
};
