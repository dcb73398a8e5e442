import type { Report, ReportGroup, ReportMetrics } from './report';

const EMPTY = '-';

const numberText = (value: number | null, digits: number): string => (value === null ? EMPTY : value.toFixed(digits));

const percentText = (value: number | null): string => (value === null ? EMPTY : `${(value * 100).toFixed(1)}%`);

/** Pads cells to column widths: the first `textColumns` columns left-aligned, the rest right-aligned. */
const alignRows = (rawRows: readonly string[][], textColumns: number): string[] => {
  const rows = rawRows.map((cells) => cells.map((cell) => cell.replace(/[\r\n\t]+/g, ' ')));
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((cells) => (cells[i] ?? '').length)));
  return rows.map((cells) =>
    cells
      .map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
};

const tableRow = (labels: string[], m: ReportMetrics, risk: string, buckets: readonly string[]): string[] => [
  ...labels,
  m.outstanding,
  m.overdue,
  numberText(m.dso_simple, 1),
  percentText(m.on_time_rate),
  numberText(m.weighted_days_late, 1),
  risk,
  ...buckets.map((label) => m.aging.find((b) => b.bucket === label)?.amount ?? EMPTY),
];

/**
 * A human-readable table: one section per report (currency), headed "<currency> as of <date>", then a
 * portfolio line and one row per group with key (and customer name when grouped by customer), outstanding,
 * overdue, simple DSO, on-time rate (percent), weighted days late, risk score and tier, and the open amount
 * of each aging bucket. Text columns are left-aligned, numbers right-aligned; missing values show as "-".
 */
export const formatReportsTable = (reports: readonly Report[]): string => {
  if (reports.length === 0) return 'no invoices\n';
  const sections = reports.map((report) => {
    const buckets = report.portfolio.aging.map((b) => b.bucket);
    const withName = report.groups.some((g) => g.name !== undefined);
    const labelsOf = (key: string, name: string): string[] => (withName ? [key, name] : [key]);
    const rows = [
      [...labelsOf('group', 'name'), 'outstanding', 'overdue', 'dso', 'on-time', 'days late', 'risk', ...buckets],
      tableRow(labelsOf('portfolio', ''), report.portfolio, EMPTY, buckets),
      ...report.groups.map((g: ReportGroup) =>
        tableRow(labelsOf(g.key, g.name ?? EMPTY), g.metrics, `${g.risk.score} ${g.risk.tier}`, buckets),
      ),
    ];
    return [`${report.currency} as of ${report.as_of}`, ...alignRows(rows, labelsOf('', '').length)].join('\n');
  });
  return `${sections.join('\n\n')}\n`;
};

/** RFC 4180 field: quoted (with doubled quotes) when it holds a comma, a quote, CR or LF. */
export const csvField = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

const csvNumber = (value: number | null): string => (value === null ? '' : String(value));

/**
 * CSV (RFC 4180, CRLF line ends, header first) of the reports. Columns: currency, group ("portfolio" or
 * "group"), key, invoice_count, open_count, outstanding, overdue, aging_<label> per aging bucket (labels of
 * all reports in first-seen order), dso_simple, dso_countback, bpdso, add, cei, on_time_rate,
 * weighted_days_late, at_risk_rate, over_60_share, risk_score, risk_tier, risk_reasons (joined with "; ").
 * Per currency the portfolio row (empty key and risk) comes first, then the group rows. null is an empty field.
 * When the groups carry payment terms (customer groups of the service's reports), a last column `terms`
 * holds them (empty on portfolio rows and where none is on record).
 */
export const formatReportsCsv = (reports: readonly Report[]): string => {
  const labels: string[] = [];
  for (const report of reports) {
    for (const m of [report.portfolio, ...report.groups.map((g) => g.metrics)]) {
      for (const b of m.aging) if (!labels.includes(b.bucket)) labels.push(b.bucket);
    }
  }
  const header = [
    'currency', 'group', 'key', 'invoice_count', 'open_count', 'outstanding', 'overdue',
    ...labels.map((l) => `aging_${l}`),
    'dso_simple', 'dso_countback', 'bpdso', 'add', 'cei', 'on_time_rate', 'weighted_days_late', 'at_risk_rate',
    'over_60_share', 'risk_score', 'risk_tier', 'risk_reasons',
  ];
  const withTerms = reports.some((r) => r.groups.some((g) => g.terms !== undefined));
  if (withTerms) header.push('terms');
  const line = (currency: string, kind: string, key: string, m: ReportMetrics, risk: ReportGroup['risk'] | null, terms: string | null = null): string =>
    [
      currency, kind, key, String(m.invoice_count), String(m.open_count), m.outstanding, m.overdue,
      ...labels.map((l) => m.aging.find((b) => b.bucket === l)?.amount ?? ''),
      csvNumber(m.dso_simple), csvNumber(m.dso_countback), csvNumber(m.bpdso), csvNumber(m.add), csvNumber(m.cei),
      csvNumber(m.on_time_rate), csvNumber(m.weighted_days_late), csvNumber(m.at_risk_rate), csvNumber(m.over_60_share),
      risk === null ? '' : String(risk.score), risk?.tier ?? '', risk === null ? '' : risk.reasons.join('; '),
      ...(withTerms ? [terms ?? ''] : []),
    ]
      .map(csvField)
      .join(',');
  const lines = [header.map(csvField).join(',')];
  for (const report of reports) {
    lines.push(line(report.currency, 'portfolio', '', report.portfolio, null));
    for (const g of report.groups) lines.push(line(report.currency, 'group', g.key, g.metrics, g.risk, g.terms ?? null));
  }
  return `${lines.join('\r\n')}\r\n`;
};
