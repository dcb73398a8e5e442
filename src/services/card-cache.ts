/**
 * Card answers, serialized, per portal and record, valid while the portal's data version (see touchPortal in
 * store/facts.ts) stays what it was when the answer was computed. The version is read before computing, so an
 * answer computed while a change committed is filed under the older version and never served after it.
 * Least recently used entries go first when the cache is full.
 */
export type CardCache = {
  get: (key: string, version: number) => string | undefined;
  set: (key: string, version: number, body: string) => void;
  readonly size: number;
};

export const createCardCache = (maxEntries = 2_000): CardCache => {
  const entries = new Map<string, { version: number; body: string }>();
  return {
    get: (key, version) => {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.version !== version) {
        entries.delete(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry); // most recently used last
      return entry.body;
    },
    set: (key, version, body) => {
      entries.delete(key);
      entries.set(key, { version, body });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    get size() {
      return entries.size;
    },
  };
};
