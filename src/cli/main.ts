import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { today } from '../clock';
import { isIsoDate } from '../domain/calendar';
import { formatReportsCsv, formatReportsTable } from '../domain/report-format';
import { GROUP_DIMENSIONS, type GroupDimension } from '../domain/types';
import { loadConfig, type Config } from '../config';
import { CsvOptionError, checkImportOptions, parseColumnMap } from '../import/csv-parse';
import { loadDemo, removeDemo, writeDemoCsv } from '../services/demo';
import { ImportRejected, importInvoicesCsv, importPaymentsCsv, type ImportOptions, type ImportResult } from '../services/import';
import { describeSnapshotImport, importSnapshotCsv } from '../import/presets/snapshot-import';
import { PRESET_NAMES, type PresetName } from '../import/presets/types';
import { portfolioReports } from '../services/reports';
import { openStore, storeOptionsFrom, type Store } from '../store/store';
import { authFor, callerFor, connectPortal } from '../hubspot/connection';
import { createLogger } from '../logger';
import { hubspotUninstallCommand } from './hubspot-auth';
import { registerMatchingCommands } from './hubspot-matching';
import { cliTokenSource, runSyncInvoices } from './hubspot-sync';
import { installPropertiesCommand, pushCommand } from './hubspot-writeback';
import { EXIT, InputError, UsageError, processIo, type Io } from './io';
import { progressBar } from './progress';
import { registerSyncCommands } from './sync';
import { registerCollabCommands } from './collab';


type MappingFlags = { map?: string; dateFormat?: string; currency?: string };

const mappingOptions = (command: Command): Command =>
  command
    .option('--map <pairs>', 'column map target=SourceColumn,... for files whose headers differ')
    .option('--date-format <format>', 'how dates are written, e.g. M/D/YYYY (default YYYY-MM-DD)')
    .option('--currency <code>', 'currency for rows without one');

const csvOptions = (flags: MappingFlags): ImportOptions => {
  try {
    const options = {
      ...(flags.map ? { map: parseColumnMap(flags.map) } : {}),
      ...(flags.dateFormat ? { dateFormat: flags.dateFormat } : {}),
      ...(flags.currency ? { currency: flags.currency.toUpperCase() } : {}),
    };
    checkImportOptions(options);
    return options;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
};

const readFile = (io: Io, file: string): string => {
  const full = path.resolve(io.cwd, file);
  try {
    return fs.readFileSync(full, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
};

const positiveInt = (name: string, max: number) => (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
  return Number(value);
};

const agingList = (value: string): number[] => {
  const parts = value.split(',').map((p) => p.trim());
  const days = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || days.some((d, i) => d < 1 || (i > 0 && d <= (days[i - 1] ?? 0)))) {
    throw new UsageError(`--aging takes ascending day limits such as 30,60,90 (got "${value}")`);
  }
  return days;
};

const asOfDate = (value: string): string => {
  if (!isIsoDate(value)) throw new UsageError(`--as-of must be a calendar date YYYY-MM-DD (got "${value}")`);
  return value;
};

const describeCounts = (result: ImportResult): string => {
  const c = (label: string, x: { inserted: number; updated: number; unchanged: number }) =>
    `${label}: ${x.inserted} new, ${x.updated} updated, ${x.unchanged} unchanged`;
  const parts = result.file === 'invoices'
    ? [c('customers', result.customers), c('invoices', result.invoices), ...(result.payments.inserted + result.payments.updated + result.payments.unchanged > 0 ? [c('payments', result.payments)] : [])]
    : [c('payments', result.payments)];
  return `${result.imported} of ${result.rows} rows imported (${parts.join('; ')})`;
};

/** Runs `arbridge` with the given arguments; resolves to the exit code (0 ok, 1 bad input, 2 usage). */
export const main = async (argv: readonly string[], io: Io = processIo()): Promise<number> => {
  let config: Config;
  try {
    config = loadConfig(io.env);
  } catch (error) {
    io.stderr.write(`arbridge: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const withStore = async <T>(portal: number | undefined, run: (store: Store, portalId: number) => Promise<T>): Promise<T> => {
    const store = await openStore(storeOptionsFrom(config));
    try {
      return await run(store, portal ?? config.defaultPortalId);
    } finally {
      await store.close();
    }
  };

  const program = new Command('arbridge')
    .description('ARBridge: receivables facts, metrics as of any date, and CSV import')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .option('--portal <id>', 'HubSpot portal (tenant) to work on (default ARBRIDGE_PORTAL_ID or 1)', positiveInt('--portal', Number.MAX_SAFE_INTEGER));

  const portalOf = (): number | undefined => program.opts<{ portal?: number }>().portal;

  const runImport = async (kind: 'invoices' | 'payments', file: string, flags: MappingFlags & { skipInvalid?: boolean; rejects?: string }) => {
    const options = csvOptions(flags);
    const text = readFile(io, file);
    const result = await withStore(portalOf(), (store, portalId) => {
      let bar: ((done: number) => void) | null = null;
      const onProgress = (done: number, total: number): void => {
        bar ??= progressBar(io, `importing ${kind}`, total);
        bar(done);
      };
      const importOptions = { ...options, skipInvalid: flags.skipInvalid ?? false, onProgress };
      return kind === 'invoices' ? importInvoicesCsv(store.db, portalId, text, importOptions) : importPaymentsCsv(store.db, portalId, text, importOptions);
    });
    io.stdout.write(`${describeCounts(result)}\n`);
    if (result.rejectsCsv !== null) {
      const rejectsFile = flags.rejects ?? `${file.replace(/\.csv$/i, '')}.rejected.csv`;
      fs.writeFileSync(path.resolve(io.cwd, rejectsFile), result.rejectsCsv);
      io.stderr.write(`${result.rejected} row${result.rejected === 1 ? '' : 's'} skipped; rows and reasons written to ${rejectsFile}\n`);
      for (const e of result.errors.slice(0, 5)) io.stderr.write(`  ${e.message}\n`);
    }
  };

  // A report export (--preset) is a snapshot of balances at --snapshot-date; see src/import/presets.
  const runPresetImport = async (file: string, flags: MappingFlags & { skipInvalid?: boolean; rejects?: string; preset?: PresetName; snapshotDate?: string }) => {
    if (!flags.preset) throw new UsageError('--snapshot-date goes with --preset');
    if (!flags.snapshotDate) throw new UsageError(`--preset ${flags.preset} needs --snapshot-date YYYY-MM-DD, the date the export shows balances for`);
    if (flags.map || flags.skipInvalid || flags.rejects) throw new UsageError('--preset reads a known layout whole: --map, --skip-invalid and --rejects do not go with it');
    const text = readFile(io, file);
    const options = { preset: flags.preset, snapshotDate: flags.snapshotDate, today: today(), ...(flags.dateFormat ? { dateFormat: flags.dateFormat } : {}), ...(flags.currency ? { currency: flags.currency } : {}) };
    const result = await withStore(portalOf(), (store, portalId) => importSnapshotCsv(store.db, portalId, text, options));
    io.stdout.write(`${describeSnapshotImport(result).join('\n')}\n`);
  };

  const importCommand = program.command('import').description('import a CSV export into the store');
  for (const kind of ['invoices', 'payments'] as const) {
    const command = mappingOptions(importCommand.command(`${kind} <file>`).description(`import a ${kind} CSV (all or nothing unless --skip-invalid)`))
      .option('--skip-invalid', 'import the valid rows; write the rejected rows and reasons to a file')
      .option('--rejects <file>', 'where --skip-invalid writes the rejected rows (default <file>.rejected.csv)');
    if (kind === 'invoices') {
      command.addOption(new Option('--preset <name>', 'read a report export as a snapshot of balances').choices(PRESET_NAMES))
        .option('--snapshot-date <date>', 'with --preset: the date the export shows balances for (YYYY-MM-DD)');
    }
    command.action((file: string, flags: MappingFlags & { skipInvalid?: boolean; rejects?: string; preset?: PresetName; snapshotDate?: string }) =>
      (flags.preset || flags.snapshotDate ? runPresetImport(file, flags) : runImport(kind, file, flags)));
  }

  mappingOptions(program.command('report').description('receivables metrics and risk as of a date'))
    .option('--as-of <date>', 'the date the report is true for (default today)', asOfDate)
    .addOption(new Option('--by <dimension>', 'group by').choices(GROUP_DIMENSIONS).default('customer'))
    .option('--dso-months <n>', 'months in the DSO window (default 3)', positiveInt('--dso-months', 36))
    .option('--aging <days>', 'aging bucket limits, e.g. 30,60,90', agingList)
    .addOption(new Option('--age-by <basis>', 'age open invoices by days past due or by days since issue').choices(['due', 'issue']))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--invoices <file>', 'report on this invoices CSV (a throw-away store) instead of the stored facts')
    .option('--payments <file>', 'with --invoices: a payments CSV to load too')
    .option('--payments-map <pairs>', 'with --payments: the payments file\'s column map (default --map)')
    .action(async (flags: MappingFlags & { paymentsMap?: string; asOf?: string; by: GroupDimension; dsoMonths?: number; aging?: number[]; ageBy?: 'due' | 'issue'; format: 'table' | 'json' | 'csv'; invoices?: string; payments?: string }) => {
      if (flags.payments && !flags.invoices) throw new UsageError('--payments goes with --invoices');
      if (flags.paymentsMap && !flags.payments) throw new UsageError('--payments-map goes with --payments');
      const asOf = flags.asOf ?? today();
      const reportOptions = { asOf, by: flags.by, ...(flags.dsoMonths ? { dsoMonths: flags.dsoMonths } : {}), ...(flags.aging ? { aging: flags.aging } : {}), ...(flags.ageBy ? { agingBasis: flags.ageBy } : {}) };
      let reports;
      if (flags.invoices) {
        const options = csvOptions(flags);
        const paymentOptions = flags.paymentsMap ? csvOptions({ ...flags, map: flags.paymentsMap }) : options;
        const invoicesText = readFile(io, flags.invoices);
        const paymentsText = flags.payments ? readFile(io, flags.payments) : null;
        const store = await openStore({ kind: 'pglite', dataDir: null });
        try {
          const portalId = portalOf() ?? config.defaultPortalId;
          await importInvoicesCsv(store.db, portalId, invoicesText, options);
          if (paymentsText !== null) {
            await importPaymentsCsv(store.db, portalId, paymentsText, paymentOptions);
          }
          reports = await portfolioReports(store.db, portalId, reportOptions);
        } finally {
          await store.close();
        }
      } else {
        reports = await withStore(portalOf(), (store, portalId) => portfolioReports(store.db, portalId, reportOptions));
      }
      if (flags.format === 'json') io.stdout.write(reports.map((r) => JSON.stringify(r)).join('\n') + (reports.length ? '\n' : ''));
      else if (flags.format === 'csv') io.stdout.write(formatReportsCsv(reports));
      else io.stdout.write(reports.length ? formatReportsTable(reports) : `No invoices issued on or before ${asOf}.\n`);
    });

  program.command('migrate').description('apply pending database migrations').action(async () => {
    const store = await openStore(storeOptionsFrom(config), { migrateOnOpen: false });
    try {
      const applied = await store.migrate();
      io.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'the schema is up to date\n');
    } finally {
      await store.close();
    }
  });

  program.command('demo').description('load the seeded demo portfolio into the store, or write it as CSV files')
    .option('--customers <n>', 'number of customers', positiveInt('--customers', 1_000_000), 200)
    .option('--invoices <n>', 'number of invoices', positiveInt('--invoices', 1_000_000), 5_000)
    .option('--seed <n>', 'random seed', positiveInt('--seed', 2 ** 31), 42)
    .option('--as-of <date>', 'last day of the generated history (default today)', asOfDate)
    .option('--out <dir>', 'write invoices.csv and payments.csv here instead of loading the store')
    .option('--remove', 'delete the demo portfolio from the store (imported data stays)')
    .action(async (flags: { customers: number; invoices: number; seed: number; asOf?: string; out?: string; remove?: boolean }) => {
      if (flags.remove) {
        if (flags.out) throw new UsageError('--remove and --out do not go together');
        const removed = await withStore(portalOf(), (store, portalId) => removeDemo(store.db, portalId));
        io.stdout.write(`removed ${removed.customers} demo customers, ${removed.invoices} invoices and ${removed.payments} payments\n`);
        return;
      }
      const options = { customers: flags.customers, invoices: flags.invoices, seed: flags.seed, endDate: flags.asOf ?? today() };
      if (flags.out) {
        const written = writeDemoCsv(path.resolve(io.cwd, flags.out), options);
        io.stdout.write(`wrote ${written.invoices} invoices to ${written.invoicesFile} and ${written.payments} payments to ${written.paymentsFile}\n`);
        return;
      }
      const loaded = await withStore(portalOf(), (store, portalId) => loadDemo(store.db, portalId, options));
      io.stdout.write(`loaded ${loaded.customers} customers, ${loaded.invoices} invoices and ${loaded.payments} payments\n`);
    });

  // HubSpot commands work on --portal, else the private app's portal (HUBSPOT_PORTAL_ID), else the default.
  const hubspotPortal = (): number | undefined => portalOf() ?? config.hubspot.privateApp?.portalId;
  const cliLogger = () => createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, io.stderr);
  const hubspot = program.command('hubspot').description('the HubSpot side: properties, matching, write-back, invoices, installs');
  hubspot.command('install-properties').description('create or update the arbridge property group and properties on companies and deals')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((flags: { format: 'table' | 'json' }) => withStore(hubspotPortal(), async (store, portalId) => {
      const logger = cliLogger();
      await installPropertiesCommand({ db: store.db, config, io, logger }, connectPortal(authFor(store.db, config, logger), config, portalId), flags.format);
    }));
  hubspot.command('push').description('recompute the roll-ups, queue what changed, and write it to HubSpot in batches')
    .option('--dry-run', 'show the planned changes with counts; write nothing')
    .option('--as-of <date>', 'the date the roll-ups are true for (default today)', asOfDate)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((flags: { dryRun?: boolean; asOf?: string; format: 'table' | 'json' }) => withStore(hubspotPortal(), async (store, portalId) => {
      const logger = cliLogger();
      const dryRun = flags.dryRun ?? false;
      const connection = dryRun ? null : connectPortal(authFor(store.db, config, logger), config, portalId);
      const report = await pushCommand({ db: store.db, config, io, logger }, connection, portalId, { asOf: flags.asOf ?? today(), dryRun, format: flags.format });
      if (report.drain && (report.drain.stoppedBy !== null || report.drain.refused > 0)) throw new InputError('some changes were not written (see above); they stay queued');
    }));
  hubspot.command('sync-invoices').description("read HubSpot's invoice object into the store (source hubspot), incrementally")
    .option('--full', 'list every invoice again instead of reading the changes since the last run')
    .action((flags: { full?: boolean }) => withStore(hubspotPortal(), async (store, portalId) => {
      await runSyncInvoices({ io, config, db: store.db, portalId, full: flags.full ?? false });
    }));
  hubspot.command('uninstall').description("remove a portal's HubSpot install (its stored tokens) and revoke its refresh token")
    .action(() => withStore(portalOf(), (store) => hubspotUninstallCommand({ db: store.db, config, io }, portalOf())));
  registerMatchingCommands(hubspot, {
    withDeps: (work) => withStore(hubspotPortal(), (store, portalId) => work({ db: store.db, io, portalId })),
    // A portal that is not connected is matched against the stored mirror (the handler says so).
    mirrorOptions: async ({ db, portalId }) => ((await authFor(db, config, cliLogger()).status(portalId)).mode === 'none'
      ? null
      : { basePath: config.hubspot.apiBaseUrl, tokenFor: cliTokenSource(config, db, io), call: callerFor(config, portalId).call }),
  });

  registerSyncCommands(program, { io, config, withStore: (work) => withStore(portalOf(), work) });
  registerCollabCommands(program, { io, withStore: (work) => withStore(portalOf(), work), today: () => today(), who: io.env.ARBRIDGE_USER ?? io.env.USER ?? null });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError || error instanceof CsvOptionError) {
      io.stderr.write(`arbridge: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof ImportRejected) {
      io.stderr.write(`arbridge: ${error.message}\n`);
      for (const e of error.errors) io.stderr.write(`  ${e.message}\n`);
      if (error.omittedErrors > 0) io.stderr.write(`  … and ${error.omittedErrors} more\n`);
      return EXIT.badInput;
    }
    if (error instanceof InputError) {
      io.stderr.write(`arbridge: ${error.message}\n`);
      return EXIT.badInput;
    }
    io.stderr.write(`arbridge: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.badInput;
  }
};
