import { sql } from 'kysely';
import {
  ACCOUNTING_SOURCES, UNMATCHED_LIMIT, type Connection, type PolicyDocument, type Settings,
} from '../../extensions/settings-api';
import { checkPolicy, DEFAULT_POLICY, type Policy, type PolicyError } from '../domain/policy';
import { currencyExponent, formatMinor, parseMinor } from '../domain/money';
import { AppError } from '../errors';
import { linkCounts, listUnmatchedCustomers } from '../hubspot/matching';
import { CSV_SOURCE } from './import';
import { HUBSPOT_SOURCE } from '../hubspot/invoice-source';
import type { Db } from '../store/database';
import type { Executor } from '../store/facts';
import { loadPolicy, savePolicy } from '../store/policies';

// What the settings page shows and changes: the portal's sources of invoices, its unmatched customers, and its
// policy. The policy travels as a PolicyDocument: the domain policy with big-deal thresholds as decimal amounts.

/** The policy as the settings API shows it. */
export const policyDocument = (policy: Policy): PolicyDocument => ({
  ...policy,
  bigDeal: {
    ...policy.bigDeal,
    thresholds: policy.bigDeal.thresholds.map((t) => ({ currency: t.currency, amount: formatMinor(t.amountMinor, t.currency) })),
  },
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const AMOUNT_MINOR = /^bigDeal\.thresholds\.(\d+)\.amountMinor$/;

/**
 * Reads a policy document: decimal big-deal amounts become minor units of their currency, then the domain's
 * rules apply. Every error names its path in the document (e.g. `bigDeal.thresholds.0.amount`).
 */
export const policyFromDocument = (document: unknown): { ok: true; policy: Policy } | { ok: false; errors: PolicyError[] } => {
  const errors: PolicyError[] = [];
  let input = document;
  if (isRecord(document) && isRecord(document.bigDeal) && Array.isArray(document.bigDeal.thresholds)) {
    const thresholds = document.bigDeal.thresholds.map((item: unknown, i) => {
      if (!isRecord(item)) return item;
      const { amount, ...rest } = item;
      const at = `bigDeal.thresholds.${i}`;
      if ('amountMinor' in rest) {
        errors.push({ path: `${at}.amountMinor`, message: 'is not a policy field; send amount as a decimal string' });
        return rest;
      }
      const currency = typeof item.currency === 'string' ? item.currency : '';
      const minor = typeof amount === 'string' ? parseMinor(amount, currency) : null;
      if (minor === null) {
        const decimals = currencyExponent(currency);
        errors.push({
          path: `${at}.amount`,
          message: decimals === 0 ? 'must be a whole amount such as 50000'
            : `must be a decimal amount with at most ${decimals} decimals, such as 50000.${'0'.repeat(decimals)}`,
        });
        return { ...rest, amountMinor: 0 };
      }
      if (minor < 0) {
        errors.push({ path: `${at}.amount`, message: 'must not be negative' });
        return { ...rest, amountMinor: 0 };
      }
      return { ...rest, amountMinor: minor };
    });
    input = { ...document, bigDeal: { ...document.bigDeal, thresholds } };
  }
  const checked = checkPolicy(input);
  if (checked.ok && errors.length === 0) return checked;
  const domainErrors = checked.ok ? [] : checked.errors.map((e) => {
    const minor = AMOUNT_MINOR.exec(e.path);
    return minor ? { path: `bigDeal.thresholds.${minor[1]}.amount`, message: e.message } : e;
  });
  return { ok: false, errors: [...errors, ...domainErrors] };
};

/** A 400 naming every wrong field of a policy document by its path. */
const policyRefused = (errors: readonly PolicyError[]): AppError => {
  const fields: Record<string, string[]> = {};
  for (const e of errors) (fields[e.path] ??= []).push(e.message);
  return new AppError('invalid_request', `The policy is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { fields });
};

/** Validates a policy document and makes it the portal's policy (the card cache follows); answers it complete. */
export const savePolicyDocument = async (db: Executor, portalId: number, document: unknown): Promise<PolicyDocument> => {
  const read = policyFromDocument(document);
  if (!read.ok) throw policyRefused(read.errors);
  await savePolicy(db, portalId, read.policy);
  return policyDocument(read.policy);
};

/** Makes the defaults the portal's policy. */
export const resetPolicy = async (db: Executor, portalId: number): Promise<PolicyDocument> => {
  await savePolicy(db, portalId, DEFAULT_POLICY);
  return policyDocument(DEFAULT_POLICY);
};

const iso = (value: Date | string | null | undefined): string | null =>
  value === null || value === undefined ? null : new Date(value).toISOString();

type SourceData = { customers: number; invoices: number; latest: string | null };

/** Customers and invoices per source, with the latest time any of them changed. */
const dataBySource = async (db: Executor, portalId: number): Promise<Map<string, SourceData>> => {
  const rows = await sql<{ source: string; customers: number; invoices: number; latest: Date | string | null }>`
    SELECT source, sum(customers)::int AS customers, sum(invoices)::int AS invoices, max(latest) AS latest FROM (
      SELECT source, count(*) AS customers, 0 AS invoices, max(updated_at) AS latest FROM customers WHERE portal_id = ${portalId} GROUP BY source
      UNION ALL
      SELECT source, 0, count(*), max(updated_at) FROM invoices WHERE portal_id = ${portalId} GROUP BY source
    ) AS per_table GROUP BY source`.execute(db);
  return new Map(rows.rows.map((r) => [r.source, { customers: r.customers, invoices: r.invoices, latest: iso(r.latest) }]));
};

export type SettingsOptions = {
  /** The private app's portal, when the service runs as one (that portal is served without an OAuth install). */
  privateAppPortalId: number | null;
};

/** Everything the settings page shows for a portal. */
export const settingsOverview = async (db: Db, portalId: number, options: SettingsOptions): Promise<Settings> => {
  const [connections, data, install, mirror, unmatched, counts, policy] = await Promise.all([
    db.selectFrom('accounting_connections')
      .select(['source', 'status', 'tenant_name', 'connected_at', 'last_sync_at', 'last_error'])
      .where('portal_id', '=', portalId).execute(),
    dataBySource(db, portalId),
    db.selectFrom('hubspot_installs').select(['hub_domain', 'installed_at', 'scopes']).where('portal_id', '=', portalId).executeTakeFirst(),
    sql<{ companies: number; deals: number; latest: Date | string | null }>`
      SELECT (SELECT count(*) FROM hubspot_companies WHERE portal_id = ${portalId})::int AS companies,
             (SELECT count(*) FROM hubspot_deals WHERE portal_id = ${portalId})::int AS deals,
             greatest((SELECT max(synced_at) FROM hubspot_companies WHERE portal_id = ${portalId}),
                      (SELECT max(synced_at) FROM hubspot_deals WHERE portal_id = ${portalId})) AS latest`.execute(db),
    listUnmatchedCustomers(db, portalId, { limit: UNMATCHED_LIMIT }),
    linkCounts(db, portalId),
    loadPolicy(db, portalId),
  ]);
  const mirrored = mirror.rows[0];
  const privateApp = install === undefined && options.privateAppPortalId === portalId;
  const hubspot: Settings['hubspot'] = {
    installed: install !== undefined || privateApp,
    kind: install !== undefined ? 'oauth' : privateApp ? 'private_app' : null,
    hub_domain: install?.hub_domain ?? null,
    installed_at: iso(install?.installed_at),
    scopes: install ? install.scopes.split(/\s+/).filter((s) => s !== '') : [],
    companies: mirrored?.companies ?? 0,
    deals: mirrored?.deals ?? 0,
    last_sync_at: iso(mirrored?.latest),
  };

  const none: SourceData = { customers: 0, invoices: 0, latest: null };
  const fromData = (source: string): Connection => {
    const d = data.get(source) ?? none;
    const own = source === HUBSPOT_SOURCE;
    return {
      source,
      status: d.customers + d.invoices > 0 ? 'connected' : 'not_connected',
      tenant_name: own ? hubspot.hub_domain : null,
      connected_at: own ? hubspot.installed_at : null,
      last_sync_at: d.latest,
      last_error: null,
      customers: d.customers,
      invoices: d.invoices,
    };
  };
  const accounting = ACCOUNTING_SOURCES.map((source): Connection => {
    const row = connections.find((c) => c.source === source);
    const d = data.get(source) ?? none;
    return {
      source,
      status: row?.status ?? 'not_connected',
      tenant_name: row?.tenant_name ?? null,
      connected_at: iso(row?.connected_at),
      last_sync_at: iso(row?.last_sync_at),
      last_error: row?.last_error ?? null,
      customers: d.customers,
      invoices: d.invoices,
    };
  });
  const named = new Set<string>([...ACCOUNTING_SOURCES, CSV_SOURCE, HUBSPOT_SOURCE]);
  const others = [...data.keys()].filter((s) => !named.has(s)).sort();

  return {
    portal_id: portalId,
    hubspot,
    connections: [...accounting, fromData(CSV_SOURCE), fromData(HUBSPOT_SOURCE), ...others.map(fromData)],
    unmatched: {
      total: counts.companies.unmatched,
      customers: unmatched.items.map((c) => ({
        customer_id: c.customerId,
        source: c.source,
        name: c.name,
        domain: c.domain,
        reason: c.reason,
        candidates: c.ambiguities.reduce((most, a) => Math.max(most, a.candidateCount), 0),
      })),
    },
    policy: policyDocument(policy),
    defaults: policyDocument(DEFAULT_POLICY),
  };
};
