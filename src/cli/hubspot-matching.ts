import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { AppError } from '../errors';
import {
  listUnmatchedCustomers, listUnmatchedInvoices, runMatching, type Ambiguity, type LinkCounts, type MatchingReport,
} from '../hubspot/matching';
import { mirrorHubSpot, type MirrorOptions, type MirrorReport, type StreamReport } from '../hubspot/mirror';
import {
  importCompanyMappings, MappingRejected, resetCompanyLink, resetDealLink, setManualCompanyLink, setManualDealLink,
} from '../services/matching';
import type { Db } from '../store/database';
import { InputError, UsageError, type Io } from './io';

// `arbridge hubspot …` commands of matching: the review list, manual links, the mapping CSV, a matching run.
// Each handler takes the store, the portal and where to write; registerMatchingCommands adds them to the
// `hubspot` command of the CLI.

export type MatchingCommandDeps = { db: Db; io: Io; portalId: number };

/** Runs a service call; its request errors become input errors (exit 1) with the same message. */
const asInput = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw new InputError(error.message);
    if (error instanceof MappingRejected) throw new InputError([error.message, ...error.errors.map((e) => `  ${e.message}`)].join('\n'));
    throw error;
  }
};

/** Plain left-aligned columns; empty values print as "-". */
export const formatTable = (header: readonly string[], rows: readonly (readonly (string | null)[])[]): string => {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null || c === '' ? '-' : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c ?? '' : (c ?? '').padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
};

const describeAmbiguities = <C>(ambiguities: readonly Ambiguity<C>[], label: (candidate: C) => string): string =>
  ambiguities.map((a) => `${a.level} ${a.value}: ${a.candidates.map(label).join(', ')}${a.candidateCount > a.candidates.length ? ` and ${a.candidateCount - a.candidates.length} more` : ''}`).join('; ');

export type UnmatchedFlags = { kind?: 'customers' | 'invoices'; format?: 'table' | 'json'; limit?: number; after?: string };

/** `arbridge hubspot unmatched [--kind customers|invoices] [--format table|json] [--limit N] [--after CURSOR]` */
export const hubspotUnmatchedCommand = async ({ db, io, portalId }: MatchingCommandDeps, flags: UnmatchedFlags): Promise<void> => {
  const kind = flags.kind ?? 'customers';
  const query = { limit: flags.limit ?? 100, after: flags.after ?? null };
  let next: string | null;
  if (kind === 'customers') {
    const page = await listUnmatchedCustomers(db, portalId, query);
    if (flags.format === 'json') {
      io.stdout.write(`${JSON.stringify(page)}\n`);
      return;
    }
    if (page.items.length === 0) {
      io.stdout.write(query.after ? 'No more unmatched customers.\n' : 'Every customer is linked to a company (or unlinked by hand).\n');
      return;
    }
    io.stdout.write(formatTable(['source', 'customer', 'name', 'domain', 'reason', 'candidates'], page.items.map((c) => [
      c.source, c.customerId, c.name, c.domain, c.reason,
      describeAmbiguities(c.ambiguities, (x) => `${x.companyId}${x.name ? ` (${x.name})` : ''}`),
    ])));
    next = page.next;
  } else {
    const page = await listUnmatchedInvoices(db, portalId, query);
    if (flags.format === 'json') {
      io.stdout.write(`${JSON.stringify(page)}\n`);
      return;
    }
    if (page.items.length === 0) {
      io.stdout.write(query.after ? 'No more unmatched invoices.\n' : 'Every invoice is linked to a deal (or unlinked by hand).\n');
      return;
    }
    io.stdout.write(formatTable(['source', 'invoice', 'customer', 'company', 'amount', 'issued', 'reference', 'reason', 'candidates'], page.items.map((i) => [
      i.source, i.invoiceId, i.customerName ?? i.customerId, i.companyId, `${i.amount} ${i.currency}`, i.issueDate,
      i.reference, i.reason, describeAmbiguities(i.ambiguities, (x) => `${x.dealId}${x.name ? ` (${x.name})` : ''}`),
    ])));
    next = page.next;
  }
  if (next !== null) io.stdout.write(`More: arbridge hubspot unmatched --kind ${kind} --after ${next}\n`);
};

/** `arbridge hubspot link --customer ID --company ID [--source S]` */
export const hubspotLinkCommand = async ({ db, io, portalId }: MatchingCommandDeps, flags: { customer: string; company: string; source?: string }): Promise<void> => {
  const result = await asInput(() => setManualCompanyLink(db, portalId, { id: flags.customer, source: flags.source }, flags.company, 'cli'));
  io.stdout.write(`customer ${result.customerId} (${result.source}) is linked to company ${result.companyId} by hand; matching keeps this link\n`);
  if (result.companyKnown === false) io.stderr.write(`note: company ${result.companyId} is not in the HubSpot mirror (yet)\n`);
};

/** `arbridge hubspot unlink --customer ID [--source S] [--auto]` */
export const hubspotUnlinkCommand = async ({ db, io, portalId }: MatchingCommandDeps, flags: { customer: string; source?: string; auto?: boolean }): Promise<void> => {
  const ref = { id: flags.customer, source: flags.source };
  if (flags.auto) {
    const previous = await asInput(() => resetCompanyLink(db, portalId, ref));
    io.stdout.write(`customer ${flags.customer}: ${previous ? `${previous.method} link removed` : 'had no link'}; the next matching run decides\n`);
    return;
  }
  const result = await asInput(() => setManualCompanyLink(db, portalId, ref, null, 'cli'));
  io.stdout.write(`customer ${result.customerId} (${result.source}) is unlinked by hand${result.previous?.companyId ? ` (was company ${result.previous.companyId})` : ''}; matching will not link it\n`);
};

/** `arbridge hubspot link-deal --invoice ID --deal ID [--source S]` */
export const hubspotLinkDealCommand = async ({ db, io, portalId }: MatchingCommandDeps, flags: { invoice: string; deal: string; source?: string }): Promise<void> => {
  const result = await asInput(() => setManualDealLink(db, portalId, { id: flags.invoice, source: flags.source }, flags.deal, 'cli'));
  io.stdout.write(`invoice ${result.invoiceId} (${result.source}) is linked to deal ${result.dealId} by hand; matching keeps this link\n`);
  if (result.dealKnown === false) io.stderr.write(`note: deal ${result.dealId} is not in the HubSpot mirror (yet)\n`);
};

/** `arbridge hubspot unlink-deal --invoice ID [--source S] [--auto]` */
export const hubspotUnlinkDealCommand = async ({ db, io, portalId }: MatchingCommandDeps, flags: { invoice: string; source?: string; auto?: boolean }): Promise<void> => {
  const ref = { id: flags.invoice, source: flags.source };
  if (flags.auto) {
    const previous = await asInput(() => resetDealLink(db, portalId, ref));
    io.stdout.write(`invoice ${flags.invoice}: ${previous ? `${previous.method} link removed` : 'had no link'}; the next matching run decides\n`);
    return;
  }
  const result = await asInput(() => setManualDealLink(db, portalId, ref, null, 'cli'));
  io.stdout.write(`invoice ${result.invoiceId} (${result.source}) is unlinked by hand${result.previous?.dealId ? ` (was deal ${result.previous.dealId})` : ''}; matching will not link it\n`);
};

/** `arbridge hubspot map-companies FILE [--replace]` */
export const hubspotMapCompaniesCommand = async ({ db, io, portalId }: MatchingCommandDeps, file: string, flags: { replace?: boolean } = {}): Promise<void> => {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const result = await asInput(() => importCompanyMappings(db, portalId, text, { replace: flags.replace ?? false }));
  io.stdout.write(`${result.rows} mapping${result.rows === 1 ? '' : 's'}: ${result.inserted} new, ${result.updated} updated, ${result.unchanged} unchanged`
    + `${flags.replace ? `, ${result.removed} removed` : ''}; run arbridge hubspot match to apply them\n`);
};

const describeStream = (name: string, s: StreamReport): string =>
  `${name} ${s.fetched} fetched (${s.mode}: ${s.inserted} new, ${s.updated} updated, ${s.unchanged} unchanged${s.mode === 'full' ? `, ${s.removed} removed` : ''})`;

const describeLinks = (name: string, c: LinkCounts<string>): string => {
  const methods = Object.entries(c.byMethod).map(([m, n]) => `${m} ${n}`).join(', ');
  return `${name}: ${c.linked} linked${methods ? ` (${methods})` : ''}, ${c.unmatched} unmatched`
    + `${c.ambiguous > 0 ? ` (${c.ambiguous} ambiguous)` : ''}; this run: ${c.changes.added} added, ${c.changes.changed} changed, ${c.changes.removed} removed`;
};

/** Prints a matching run's counts (and the mirror's, when it ran). */
export const formatMatchingReport = (report: MatchingReport, mirror: MirrorReport | null, format: 'table' | 'json'): string => {
  if (format === 'json') return `${JSON.stringify({ ...(mirror ? { mirror } : {}), ...report })}\n`;
  const lines = [
    ...(mirror ? [`mirror: ${describeStream('companies', mirror.companies)}; ${describeStream('deals', mirror.deals)}`] : []),
    describeLinks('companies', report.companies),
    describeLinks('deals', report.deals),
  ];
  return `${lines.join('\n')}\n`;
};

export type MatchFlags = { format?: 'table' | 'json'; mirror?: boolean; full?: boolean };

/**
 * `arbridge hubspot match [--no-mirror] [--full] [--format table|json]`: brings the mirror up to date when
 * HubSpot is connected (`mirror` options), then matches and prints the counts.
 */
export const hubspotMatchCommand = async (
  { db, io, portalId }: MatchingCommandDeps, flags: MatchFlags, mirror: MirrorOptions | null = null,
): Promise<MatchingReport> => {
  let mirrored: MirrorReport | null = null;
  if (flags.mirror !== false) {
    if (mirror === null) {
      if (flags.full) throw new UsageError('--full needs a HubSpot connection for this portal');
      io.stderr.write(`note: HubSpot is not connected for portal ${portalId}; matching against the stored mirror\n`);
    } else {
      mirrored = await mirrorHubSpot(db, portalId, { ...mirror, full: flags.full ?? false });
    }
  }
  const report = await runMatching(db, portalId);
  io.stdout.write(formatMatchingReport(report, mirrored, flags.format ?? 'table'));
  return report;
};

const positiveInt = (name: string) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000) throw new UsageError(`${name} must be a whole number from 1 to 1000`);
  return Number(value);
};

const cursorArg = (value: string): string => {
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--after takes the cursor a previous page printed (got "${value}")`);
  return value;
};

export type MatchingCommandContext = {
  /** Opens the store for the chosen portal, runs `work`, closes the store. */
  withDeps: (work: (deps: MatchingCommandDeps) => Promise<void>) => Promise<void>;
  /** How to reach HubSpot for a portal (token and base path), or null when it is not connected. */
  mirrorOptions?: (deps: MatchingCommandDeps) => Promise<MirrorOptions | null>;
};

/** Adds the matching commands to the CLI's `hubspot` command. */
export const registerMatchingCommands = (hubspot: Command, context: MatchingCommandContext): void => {
  const { withDeps } = context;
  hubspot.command('unmatched').description('the review list: customers without a company, or invoices without a deal')
    .addOption(new Option('--kind <kind>', 'what to list').choices(['customers', 'invoices']).default('customers'))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--limit <n>', 'how many to list (default 100)', positiveInt('--limit'))
    .option('--after <cursor>', 'continue after this cursor (printed when there are more)', cursorArg)
    .action((flags: UnmatchedFlags) => withDeps((deps) => hubspotUnmatchedCommand(deps, flags)));
  hubspot.command('link').description('link a customer to a HubSpot company by hand (matching keeps it)')
    .requiredOption('--customer <id>', 'the customer id in the accounting data')
    .requiredOption('--company <id>', 'the HubSpot company id')
    .option('--source <source>', 'the customer\'s source, when several hold the id')
    .action((flags: { customer: string; company: string; source?: string }) => withDeps((deps) => hubspotLinkCommand(deps, flags)));
  hubspot.command('unlink').description('unlink a customer by hand (matching will not link it), or --auto to let matching decide again')
    .requiredOption('--customer <id>', 'the customer id in the accounting data')
    .option('--source <source>', 'the customer\'s source, when several hold the id')
    .option('--auto', 'forget the manual decision: the next matching run decides')
    .action((flags: { customer: string; source?: string; auto?: boolean }) => withDeps((deps) => hubspotUnlinkCommand(deps, flags)));
  hubspot.command('link-deal').description('link an invoice to a HubSpot deal by hand (matching keeps it)')
    .requiredOption('--invoice <id>', 'the invoice id in the accounting data')
    .requiredOption('--deal <id>', 'the HubSpot deal id')
    .option('--source <source>', 'the invoice\'s source, when several hold the id')
    .action((flags: { invoice: string; deal: string; source?: string }) => withDeps((deps) => hubspotLinkDealCommand(deps, flags)));
  hubspot.command('unlink-deal').description('unlink an invoice from its deal by hand, or --auto to let matching decide again')
    .requiredOption('--invoice <id>', 'the invoice id in the accounting data')
    .option('--source <source>', 'the invoice\'s source, when several hold the id')
    .option('--auto', 'forget the manual decision: the next matching run decides')
    .action((flags: { invoice: string; source?: string; auto?: boolean }) => withDeps((deps) => hubspotUnlinkDealCommand(deps, flags)));
  hubspot.command('map-companies <file>').description('load a CSV of source,external_id,company_id mappings (all or nothing)')
    .option('--replace', 'remove stored mappings the file does not list')
    .action((file: string, flags: { replace?: boolean }) => withDeps((deps) => hubspotMapCompaniesCommand(deps, file, flags)));
  hubspot.command('match').description('update the HubSpot mirror, match customers to companies and invoices to deals, print counts')
    .option('--no-mirror', 'match against the stored mirror without calling HubSpot')
    .option('--full', 'list every company and deal again instead of only the changed ones')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((flags: MatchFlags) => withDeps(async (deps) => {
      const mirror = flags.mirror === false || !context.mirrorOptions ? null : await context.mirrorOptions(deps);
      await hubspotMatchCommand(deps, flags, mirror);
    }));
};
