import { createHash } from 'node:crypto';
import { isSingleProcess, type Db } from '../store/database';
import { portalDataVersion, portalTouches } from '../store/facts';

/** A serialized card answer: the bytes sent and their strong ETag (a hash of the bytes). */
export type CardAnswer = { readonly body: Buffer; readonly etag: string };

/**
 * Card answers, serialized, per portal and record, valid while the portal's data version (see touchPortal in
 * store/facts.ts) stays what it was when the answer was computed. The version is read before computing, so an
 * answer computed while a change committed is filed under the older version and never served after it.
 * Least recently used entries go first when the cache is full.
 */
export type CardCache = {
  get: (key: string, version: number) => CardAnswer | undefined;
  /** Keeps the answer (JSON text) under the version and returns it as sent. */
  set: (key: string, version: number, json: string) => CardAnswer;
  readonly size: number;
};

/** The answer as sent: UTF-8 bytes, and an ETag equal for equal bytes (whichever instance computed them). */
export const cardAnswer = (json: string): CardAnswer => {
  const body = Buffer.from(json, 'utf8');
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
};

export const createCardCache = (maxEntries = 2_000): CardCache => {
  const entries = new Map<string, { version: number; answer: CardAnswer }>();
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
      return entry.answer;
    },
    set: (key, version, json) => {
      const answer = cardAnswer(json);
      entries.delete(key);
      entries.set(key, { version, answer });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return answer;
    },
    get size() {
      return entries.size;
    },
  };
};

/** Reads a portal's data version as the card cache needs it: never older than the last committed change. */
export type PortalVersions = { read: (portalId: number) => Promise<number>; readonly storeReads: number };

/**
 * The portal data versions of a store. A store other processes can write (PostgreSQL shared by service
 * instances) is asked on every read, so a change committed by any instance shows on the next request.
 *
 * A store only this process can write (PGlite: one process per data directory, by lock) is asked only when
 * a touchPortal of this process ended since the version was last read, which is exact: touchPortal is the only
 * writer of versions; the touch count moves when its UPDATE has run, so a version read after an autocommitted
 * touch sees it; and a touch inside a transaction holds the store's single connection until the transaction
 * ends, so a read started after the touch runs after the commit (or rollback) and sees its outcome.
 */
export const portalVersions = (db: Db): PortalVersions => {
  let storeReads = 0;
  const readStore = (portalId: number): Promise<number> => {
    storeReads += 1;
    return portalDataVersion(db, portalId);
  };
  if (!isSingleProcess(db)) {
    return { read: readStore, get storeReads() { return storeReads; } };
  }
  const known = new Map<number, { touches: number; version: number }>();
  return {
    read: async (portalId) => {
      const touches = portalTouches(); // before reading: a touch ending during the read makes this entry stale
      const entry = known.get(portalId);
      if (entry !== undefined && entry.touches === touches) return entry.version;
      const version = await readStore(portalId);
      known.set(portalId, { touches, version });
      return version;
    },
    get storeReads() {
      return storeReads;
    },
  };
};
