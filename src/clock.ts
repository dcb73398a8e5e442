/** Today's calendar date where the process runs (its local time zone), as `YYYY-MM-DD`. */
export const today = (now: Date = new Date()): string =>
  `${String(now.getFullYear()).padStart(4, '0')}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
