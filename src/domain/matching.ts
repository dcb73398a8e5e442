// Pure matching rules: how accounting customers find their HubSpot company and invoices their deal.
// Normalization of domains, emails, names and references, and the choice of a match, level by level.
// A level with several candidates is ambiguous: it links nothing, and the next level is tried.

/** Mail providers whose domain says nothing about the company (an invoice to jane@gmail.com). */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'live.com', 'msn.com',
  'yahoo.com', 'yahoo.co.uk', 'ymail.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'proton.me',
  'protonmail.com', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de', 'mail.com', 'zoho.com', 'yandex.com', 'yandex.ru',
  'qq.com', '163.com', '126.com', 'free.fr', 'orange.fr', 'wanadoo.fr', 'laposte.net', 'libero.it', 'btinternet.com',
  'comcast.net', 'verizon.net', 'att.net', 'hey.com', 'fastmail.com',
]);

/** Legal-form words dropped from the end of a company name (after dots are removed: "S.A." is "sa"). */
export const LEGAL_SUFFIXES: ReadonlySet<string> = new Set([
  'inc', 'incorporated', 'llc', 'lc', 'ltd', 'limited', 'gmbh', 'mbh', 'ag', 'kg', 'sa', 'sas', 'sarl', 'srl', 'spa',
  'bv', 'nv', 'corp', 'corporation', 'co', 'company', 'plc', 'lp', 'llp', 'pty', 'pte', 'oy', 'ab', 'aps', 'kk',
]);

/**
 * The bare host of a website, URL or email address, lower-cased: no scheme, `www.`, user, port, path, query
 * or trailing dot. Null when nothing host-like is left (no dot, spaces inside).
 */
export const normalizeDomain = (text: string | null | undefined): string | null => {
  if (text === null || text === undefined) return null;
  let host = text.trim().toLowerCase();
  if (host === '') return null;
  host = host.replace(/^mailto:/, '');
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^\/\//, '');
  host = host.split(/[/?#]/, 1)[0] ?? '';
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  host = host.replace(/:\d*$/, '').replace(/\.+$/, '');
  while (host.startsWith('www.')) host = host.slice(4);
  if (host === '' || !host.includes('.') || /[\s,;<>"'()[\]\\]/.test(host) || host.startsWith('.') || host.includes('..')) return null;
  return host;
};

/** A domain worth matching on: normalized, and not a free-mail provider's. */
export const matchableDomain = (text: string | null | undefined): string | null => {
  const domain = normalizeDomain(text);
  return domain === null || FREE_MAIL_DOMAINS.has(domain) ? null : domain;
};

/**
 * A company name reduced to what identifies it: Unicode NFKD without accents, lower-case, apostrophes and dots
 * dropped ("Amy's" → "amys", "S.A." → "sa"), other punctuation as spaces, legal-form words removed from the
 * end ("Acme Holdings Co., Ltd." → "acme holdings"), whitespace collapsed. Null when nothing is left.
 */
export const normalizeCompanyName = (text: string | null | undefined): string | null => {
  if (text === null || text === undefined) return null;
  const plain = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['’‘`´.]/g, '')
    .replace(/&/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  if (plain === '') return null;
  const words = plain.split(' ');
  // A name that is only a legal form ("Company") stays as it is.
  while (words.length > 1 && LEGAL_SUFFIXES.has(words[words.length - 1] as string)) words.pop();
  return words.join(' ');
};

/** A PO or quote reference as compared: trimmed, upper-case, inner whitespace collapsed. Null when empty. */
export const normalizeReference = (text: string | null | undefined): string | null => {
  if (text === null || text === undefined) return null;
  const reference = text.normalize('NFKC').trim().replace(/\s+/g, ' ').toUpperCase();
  return reference === '' ? null : reference;
};

/** An explicit id as written in a company's arbridge_customer_id property (trimmed; null when empty). */
export const normalizeExplicitId = (text: string | null | undefined): string | null => {
  const id = text?.trim() ?? '';
  return id === '' ? null : id;
};

// ---------------------------------------------------------------------------------------------------------
// Customers ↔ companies

export type CompanyRecord = { companyId: string; name: string | null; domain: string | null; customerRef: string | null };

export type CustomerRecord = {
  source: string;
  externalId: string;
  name: string | null;
  /** Website, domain or email address, as the accounting system holds it. */
  domain: string | null;
  /** The company a mapping CSV row names for this customer, if any. */
  mappedCompanyId: string | null;
};

/** The source whose customers are HubSpot companies: their external id is the company id. */
export const HUBSPOT_SOURCE = 'hubspot';

export type CompanyMatchMethod = 'hubspot' | 'explicit_id' | 'mapping' | 'domain' | 'name';
export type AmbiguousLevel = 'explicit_id' | 'domain' | 'name';

export type CompanyMatch =
  | { matched: true; companyId: string; method: CompanyMatchMethod; detail: string }
  | { matched: false; reason: 'none' }
  | { matched: false; reason: 'ambiguous'; ambiguities: { level: AmbiguousLevel; value: string; candidates: string[] }[] };

export type CompanyIndex = {
  readonly byRef: ReadonlyMap<string, readonly string[]>;
  readonly byDomain: ReadonlyMap<string, readonly string[]>;
  readonly byName: ReadonlyMap<string, readonly string[]>;
};

const addTo = (map: Map<string, string[]>, key: string | null, id: string): void => {
  if (key === null) return;
  const list = map.get(key);
  if (list === undefined) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
};

/** An index of the portal's companies by explicit id, normalized domain and normalized name. */
export const buildCompanyIndex = (companies: Iterable<CompanyRecord>): CompanyIndex => {
  const byRef = new Map<string, string[]>();
  const byDomain = new Map<string, string[]>();
  const byName = new Map<string, string[]>();
  for (const c of companies) {
    addTo(byRef, normalizeExplicitId(c.customerRef), c.companyId);
    addTo(byDomain, normalizeDomain(c.domain), c.companyId);
    addTo(byName, normalizeCompanyName(c.name), c.companyId);
  }
  for (const map of [byRef, byDomain, byName]) for (const list of map.values()) list.sort(compareIds);
  return { byRef, byDomain, byName };
};

/** HubSpot ids are numbers written as text: compared as numbers when both are. */
export const compareIds = (a: string, b: string): number => {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * Chooses the customer's company. Levels, in order: a customer from HubSpot itself ('hubspot'); a company
 * whose arbridge_customer_id is `source:external_id`, else the bare external id ('explicit_id'); a mapping
 * row ('mapping'); the customer's (email or website) domain, unless free-mail ('domain'); the normalized
 * exact name ('name'). A level that finds exactly one company links it; two or more is ambiguous (the
 * candidates are reported) and the next level is tried.
 */
export const matchCustomer = (customer: CustomerRecord, index: CompanyIndex): CompanyMatch => {
  if (customer.source === HUBSPOT_SOURCE) {
    return { matched: true, companyId: customer.externalId, method: 'hubspot', detail: 'customer from HubSpot' };
  }
  const ambiguities: { level: AmbiguousLevel; value: string; candidates: string[] }[] = [];
  const qualified = `${customer.source}:${customer.externalId}`;
  for (const ref of [qualified, customer.externalId]) {
    const found = index.byRef.get(ref);
    if (found === undefined) continue;
    if (found.length === 1) return { matched: true, companyId: found[0] as string, method: 'explicit_id', detail: ref };
    ambiguities.push({ level: 'explicit_id', value: ref, candidates: [...found] });
    break;
  }
  if (customer.mappedCompanyId !== null) {
    return { matched: true, companyId: customer.mappedCompanyId, method: 'mapping', detail: `${customer.source},${customer.externalId}` };
  }
  const domain = matchableDomain(customer.domain);
  if (domain !== null) {
    const found = index.byDomain.get(domain);
    if (found?.length === 1) return { matched: true, companyId: found[0] as string, method: 'domain', detail: domain };
    if (found !== undefined) ambiguities.push({ level: 'domain', value: domain, candidates: [...found] });
  }
  const name = normalizeCompanyName(customer.name);
  if (name !== null) {
    const found = index.byName.get(name);
    if (found?.length === 1) return { matched: true, companyId: found[0] as string, method: 'name', detail: name };
    if (found !== undefined) ambiguities.push({ level: 'name', value: name, candidates: [...found] });
  }
  return ambiguities.length > 0 ? { matched: false, reason: 'ambiguous', ambiguities } : { matched: false, reason: 'none' };
};

// ---------------------------------------------------------------------------------------------------------
// Invoices ↔ deals

export type DealRecord = { dealId: string; reference: string | null };

export type InvoiceLinkRecord = {
  /** The deal id the accounting system put on the invoice (the CSV's deal_id). */
  dealId: string | null;
  /** The deal HubSpot associates with the invoice (HubSpot-sourced invoices). */
  hubspotDealId: string | null;
  /** A PO or quote number. */
  reference: string | null;
};

export type DealMatchMethod = 'invoice_deal_id' | 'association' | 'reference';

export type DealMatch =
  | { matched: true; dealId: string; method: DealMatchMethod; detail: string }
  | { matched: false; reason: 'none' }
  | { matched: false; reason: 'ambiguous'; ambiguities: { level: 'reference'; value: string; candidates: string[] }[] };

export type DealIndex = { readonly ids: ReadonlySet<string>; readonly byReference: ReadonlyMap<string, readonly string[]> };

export const buildDealIndex = (deals: Iterable<DealRecord>): DealIndex => {
  const ids = new Set<string>();
  const byReference = new Map<string, string[]>();
  for (const d of deals) {
    ids.add(d.dealId);
    addTo(byReference, normalizeReference(d.reference), d.dealId);
  }
  for (const list of byReference.values()) list.sort(compareIds);
  return { ids, byReference };
};

/**
 * Chooses the invoice's deal: the invoice's own deal id when it names a known deal ('invoice_deal_id');
 * HubSpot's invoice↔deal association ('association'); a deal whose reference equals the invoice's
 * ('reference'; two or more such deals are ambiguous).
 */
export const matchInvoice = (invoice: InvoiceLinkRecord, index: DealIndex): DealMatch => {
  const own = invoice.dealId?.trim() ?? '';
  if (own !== '' && index.ids.has(own)) return { matched: true, dealId: own, method: 'invoice_deal_id', detail: own };
  const associated = invoice.hubspotDealId?.trim() ?? '';
  if (associated !== '') return { matched: true, dealId: associated, method: 'association', detail: associated };
  const reference = normalizeReference(invoice.reference);
  if (reference !== null) {
    const found = index.byReference.get(reference);
    if (found?.length === 1) return { matched: true, dealId: found[0] as string, method: 'reference', detail: reference };
    if (found !== undefined) return { matched: false, reason: 'ambiguous', ambiguities: [{ level: 'reference', value: reference, candidates: [...found] }] };
  }
  return { matched: false, reason: 'none' };
};
