/**
 * The days from issue to due that payment terms give, when the terms say so plainly: "Net 30", "net30",
 * "N30", "30 days", "30 days net" → 30; "Due on receipt", "Due upon receipt", "COD", "Net 0" → 0. Anything
 * else (e.g. "2/10 Net 30", "end of month") → null: the terms are kept as written and no day count is made up.
 */
export const termsDaysOf = (terms: string): number | null => {
  const text = terms.trim().toLowerCase().replace(/\s+/g, ' ');
  if (/^(due (up)?on receipt|cod|cash on delivery|payable on receipt)$/.test(text)) return 0;
  const match = /^(?:net ?(\d{1,4})|n(\d{1,4})|(\d{1,4}) days(?: net)?)$/.exec(text);
  const days = match ? Number(match[1] ?? match[2] ?? match[3]) : null;
  return days !== null && days <= 3650 ? days : null;
};
