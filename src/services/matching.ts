import { CsvError, parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { AppError } from '../errors';
import {
  companyLinkOfCustomer, deleteCompanyLink, deleteDealLink, setCompanyLink, setDealLink, type CompanyLink, type DealLink,
} from '../hubspot/links';
import type { Db } from '../store/database';
import { ensurePortal, type Executor, touchPortal } from '../store/facts';

// What people do with matching: link or unlink by hand (decisions later runs keep), hand a decision back to
// automatic matching, and load a mapping CSV of customers to companies.

/** A customer or invoice as people name it: its external id, and the source when several hold that id. */
export type RecordRef = { id: string; source?: string | undefined };

// eslint-disable-next-line no-control-regex -- ids never hold control characters (the schema refuses them)
const CONTROL = /[\u0000-\u001f\u007f]/;
/** HubSpot record ids are positive integers written as text. */
export const HUBSPOT_ID = /^[1-9]\d{0,19}$/;

const resolve = async (
  db: Executor, portalId: number, table: 'customers' | 'invoices', ref: RecordRef,
): Promise<{ id: number; source: string; external_id: string }> => {
  const what = table === 'customers' ? 'customer' : 'invoice';
  let query = db.selectFrom(table).select(['id', 'source', 'external_id'])
    .where('portal_id', '=', portalId).where('external_id', '=', ref.id);
  if (ref.source !== undefined) query = query.where('source', '=', ref.source);
  const rows = await query.orderBy('source').execute();
  if (rows.length === 0) {
    throw new AppError('not_found', `No ${what} ${ref.id}${ref.source !== undefined ? ` from source ${ref.source}` : ''} in this portal`);
  }
  if (rows.length > 1) {
    throw new AppError('invalid_request', `${what} ${ref.id} exists in several sources (${rows.map((r) => r.source).join(', ')}); name the source`,
      { fields: { source: [`one of ${rows.map((r) => r.source).join(', ')}`] } });
  }
  return rows[0] as { id: number; source: string; external_id: string };
};

export type ManualCompanyLinkResult = {
  customerId: string;
  source: string;
  companyId: string | null;
  method: 'manual' | 'manual_unlink';
  /** Whether the company is in the HubSpot mirror (a link to an unknown company is kept, but worth a look). */
  companyKnown: boolean | null;
  previous: { companyId: string | null; method: string } | null;
};

/**
 * Links a customer to a company by hand (`companyId`), or unlinks it by hand (`companyId` null). Either is a
 * decision automatic matching keeps.
 */
export const setManualCompanyLink = async (
  db: Db, portalId: number, customer: RecordRef, companyId: string | null, linkedBy: string | null = null,
): Promise<ManualCompanyLinkResult> => {
  if (companyId !== null && !HUBSPOT_ID.test(companyId)) throw new AppError('invalid_request', `companyId "${companyId}" is not a HubSpot record id`);
  return db.transaction().execute(async (trx) => {
    const found = await resolve(trx, portalId, 'customers', customer);
    const previous = await companyLinkOfCustomer(trx, portalId, String(found.id));
    let companyKnown: boolean | null = null;
    let detail: string | null = null;
    if (companyId !== null) {
      const company = await trx.selectFrom('hubspot_companies').select(['name', 'domain'])
        .where('portal_id', '=', portalId).where('company_id', '=', companyId).executeTakeFirst();
      companyKnown = company !== undefined;
      detail = company?.name ?? company?.domain ?? null;
    }
    await setCompanyLink(trx, portalId, {
      customerId: String(found.id), companyId, method: companyId === null ? 'manual_unlink' : 'manual', detail, linkedBy,
    });
    await touchPortal(trx, portalId);
    return {
      customerId: found.external_id, source: found.source, companyId, method: companyId === null ? 'manual_unlink' : 'manual', companyKnown,
      previous: previous ? { companyId: previous.companyId, method: previous.method } : null,
    };
  });
};

/** Forgets the manual decision (or automatic link) of a customer: the next matching run decides again. */
export const resetCompanyLink = async (db: Db, portalId: number, customer: RecordRef): Promise<CompanyLink | null> =>
  db.transaction().execute(async (trx) => {
    const found = await resolve(trx, portalId, 'customers', customer);
    const previous = await companyLinkOfCustomer(trx, portalId, String(found.id));
    await deleteCompanyLink(trx, portalId, String(found.id));
    await touchPortal(trx, portalId);
    return previous;
  });

export type ManualDealLinkResult = {
  invoiceId: string;
  source: string;
  dealId: string | null;
  method: 'manual' | 'manual_unlink';
  dealKnown: boolean | null;
  previous: { dealId: string | null; method: string } | null;
};

const dealLinkOfInvoice = async (db: Executor, portalId: number, invoiceId: number): Promise<DealLink | null> => {
  const row = await db.selectFrom('deal_links').select(['invoice_id', 'deal_id', 'method', 'detail', 'linked_by'])
    .where('portal_id', '=', portalId).where('invoice_id', '=', invoiceId).executeTakeFirst();
  return row ? { invoiceId: String(row.invoice_id), dealId: row.deal_id, method: row.method, detail: row.detail, linkedBy: row.linked_by } : null;
};

/** Links an invoice to a deal by hand (`dealId`), or unlinks it by hand (`dealId` null). */
export const setManualDealLink = async (
  db: Db, portalId: number, invoice: RecordRef, dealId: string | null, linkedBy: string | null = null,
): Promise<ManualDealLinkResult> => {
  if (dealId !== null && !HUBSPOT_ID.test(dealId)) throw new AppError('invalid_request', `dealId "${dealId}" is not a HubSpot record id`);
  return db.transaction().execute(async (trx) => {
    const found = await resolve(trx, portalId, 'invoices', invoice);
    const previous = await dealLinkOfInvoice(trx, portalId, found.id);
    let dealKnown: boolean | null = null;
    let detail: string | null = null;
    if (dealId !== null) {
      const deal = await trx.selectFrom('hubspot_deals').select(['name'])
        .where('portal_id', '=', portalId).where('deal_id', '=', dealId).executeTakeFirst();
      dealKnown = deal !== undefined;
      detail = deal?.name ?? null;
    }
    await setDealLink(trx, portalId, {
      invoiceId: String(found.id), dealId, method: dealId === null ? 'manual_unlink' : 'manual', detail, linkedBy,
    });
    await touchPortal(trx, portalId);
    return {
      invoiceId: found.external_id, source: found.source, dealId, method: dealId === null ? 'manual_unlink' : 'manual', dealKnown,
      previous: previous ? { dealId: previous.dealId, method: previous.method } : null,
    };
  });
};

/** Forgets the manual decision (or automatic link) of an invoice: the next matching run decides again. */
export const resetDealLink = async (db: Db, portalId: number, invoice: RecordRef): Promise<DealLink | null> =>
  db.transaction().execute(async (trx) => {
    const found = await resolve(trx, portalId, 'invoices', invoice);
    const previous = await dealLinkOfInvoice(trx, portalId, found.id);
    await deleteDealLink(trx, portalId, String(found.id));
    await touchPortal(trx, portalId);
    return previous;
  });

// ---------------------------------------------------------------------------------------------------------
// Mapping CSV: source,external_id,company_id

export const MAPPING_COLUMNS = ['source', 'external_id', 'company_id'] as const;

export type MappingError = { row: number; column: string; value: string; message: string };

export type CompanyMappingRow = { row: number; source: string; externalId: string; companyId: string };

/** The mapping file was refused: every problem is listed and nothing was written. */
export class MappingRejected extends Error {
  constructor(readonly errors: readonly MappingError[]) {
    super(`${errors.length} error${errors.length === 1 ? '' : 's'} in the mapping file; nothing was imported`);
    this.name = 'MappingRejected';
  }
}

const cellError = (row: number, column: string, value: string, problem: string): MappingError => ({
  row, column, value, message: `row ${row}, ${column}: ${JSON.stringify(value)} ${problem}`,
});

/**
 * Reads a mapping CSV: a header naming `source`, `external_id` and `company_id` (any order, other columns
 * ignored), then one row per accounting customer. Rows are numbered as a spreadsheet shows them (the header
 * is row 1). Returns the rows, or every problem found.
 */
export const parseCompanyMappingsCsv = (text: string): { rows: CompanyMappingRow[]; errors: MappingError[] } => {
  const records: { row: number; cells: string[] }[] = [];
  const errors: MappingError[] = [];
  try {
    parse(text, {
      bom: true, relax_column_count: true, relax_quotes: true, record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (cells: string[], context) => {
        if (cells.some((c) => c.trim() !== '')) records.push({ row: context.records, cells });
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const row = (records[records.length - 1]?.row ?? 0) + 1;
    errors.push({ row, column: '', value: '', message: `row ${row}: ${error.message}` });
    return { rows: [], errors };
  }
  const header = records.shift();
  if (header === undefined) return { rows: [], errors: [{ row: 1, column: '', value: '', message: 'row 1: the file has no header row' }] };
  const names = header.cells.map((c) => c.trim());
  const listing = names.filter((n) => n !== '').join(', ') || '(no column names)';
  const index: Record<string, number> = {};
  for (const column of MAPPING_COLUMNS) {
    const at = names.flatMap((n, i) => (n === column ? [i] : []));
    if (at.length === 0) errors.push({ row: header.row, column, value: '', message: `row ${header.row}: required column "${column}" is missing; the file has: ${listing}` });
    else if (at.length > 1) errors.push({ row: header.row, column, value: '', message: `row ${header.row}: column "${column}" appears more than once` });
    else index[column] = at[0] as number;
  }
  if (errors.length > 0) return { rows: [], errors };
  const rows: CompanyMappingRow[] = [];
  const seen = new Map<string, { row: number; companyId: string }>();
  for (const record of records) {
    const cell = (column: (typeof MAPPING_COLUMNS)[number]): string => (record.cells[index[column] as number] ?? '').trim();
    const values = { source: cell('source'), external_id: cell('external_id'), company_id: cell('company_id') };
    const problems: MappingError[] = [];
    if (record.cells.length > names.length && record.cells.slice(names.length).some((c) => c.trim() !== '')) {
      problems.push({ row: record.row, column: '', value: '', message: `row ${record.row}: has ${record.cells.length} cells but the header has ${names.length}; is a comma unquoted?` });
    } else {
      for (const column of ['source', 'external_id'] as const) {
        if (values[column] === '') problems.push(cellError(record.row, column, '', 'is empty but required'));
        else if (CONTROL.test(values[column])) problems.push(cellError(record.row, column, values[column], 'contains a control character (tab or line break)'));
      }
      if (values.company_id === '') problems.push(cellError(record.row, 'company_id', '', 'is empty but required'));
      else if (!HUBSPOT_ID.test(values.company_id)) problems.push(cellError(record.row, 'company_id', values.company_id, 'is not a HubSpot company id (a whole number)'));
    }
    if (problems.length === 0) {
      const key = `${values.source}\u0001${values.external_id}`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push(cellError(record.row, 'external_id', values.external_id, `duplicates row ${first.row} (same source and external_id)`));
      } else {
        seen.set(key, { row: record.row, companyId: values.company_id });
      }
    }
    errors.push(...problems);
    if (problems.length === 0) rows.push({ row: record.row, source: values.source, externalId: values.external_id, companyId: values.company_id });
  }
  return { rows, errors };
};

export type MappingImportResult = { rows: number; inserted: number; updated: number; unchanged: number; removed: number };

/**
 * Loads a mapping CSV, all or nothing: any bad row (or a row naming a customer the portal does not have)
 * refuses the whole file. Rows are upserted on (source, external_id); with `replace`, mappings the file
 * does not list are removed. The next matching run applies them.
 */
export const importCompanyMappings = async (
  db: Db, portalId: number, text: string, options: { replace?: boolean } = {},
): Promise<MappingImportResult> => {
  const parsed = parseCompanyMappingsCsv(text);
  if (parsed.errors.length > 0) throw new MappingRejected(parsed.errors);
  const json = JSON.stringify(parsed.rows.map((r) => ({ line: r.row, source: r.source, external_id: r.externalId, company_id: r.companyId })));
  return db.transaction().execute(async (trx) => {
    await ensurePortal(trx, portalId);
    const unknown = await sql<{ line: number; source: string; external_id: string }>`
      SELECT x.line, x.source, x.external_id
      FROM json_to_recordset(${json}::json) AS x(line int, source text, external_id text)
      WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.portal_id = ${portalId} AND c.source = x.source AND c.external_id = x.external_id)
      ORDER BY x.line`.execute(trx);
    if (unknown.rows.length > 0) {
      throw new MappingRejected(unknown.rows.map((u) => cellError(u.line, 'external_id', u.external_id, `is not a customer of source ${u.source} in this portal`)));
    }
    const upserted = await sql<{ inserted: boolean }>`
      INSERT INTO company_mappings (portal_id, source, external_id, company_id)
      SELECT ${portalId}, x.source, x.external_id, x.company_id
      FROM json_to_recordset(${json}::json) AS x(source text, external_id text, company_id text)
      ON CONFLICT (portal_id, source, external_id) DO UPDATE SET company_id = EXCLUDED.company_id, updated_at = now()
      WHERE company_mappings.company_id IS DISTINCT FROM EXCLUDED.company_id
      RETURNING (xmax = 0) AS inserted`.execute(trx);
    let removed = 0;
    if (options.replace) {
      const result = await sql`
        DELETE FROM company_mappings m WHERE m.portal_id = ${portalId}
          AND NOT EXISTS (SELECT 1 FROM json_to_recordset(${json}::json) AS x(source text, external_id text)
                          WHERE x.source = m.source AND x.external_id = m.external_id)`.execute(trx);
      removed = Number(result.numAffectedRows ?? 0);
    }
    const inserted = upserted.rows.filter((r) => r.inserted).length;
    return { rows: parsed.rows.length, inserted, updated: upserted.rows.length - inserted, unchanged: parsed.rows.length - upserted.rows.length, removed };
  });
};
