import { BarChart } from '@hubspot/ui-extensions';
import type { z } from 'zod';
import type { ReportMetricsSchema } from '../card-api.ts';

type Aging = z.infer<typeof ReportMetricsSchema>['aging'];

/** One chart row per aging bucket: the bucket as the service names it and its open amount as a chart value. */
export const agingChartRows = (aging: Aging): Array<{ bucket: string; amount: number; invoices: number }> =>
  aging.map(({ bucket, amount, count }) => ({ bucket, amount: Number(amount), invoices: count }));

/** The open balance of one currency by aging bucket, one bar per bucket. */
export const AgingChart = ({ currency, aging }: { currency: string; aging: Aging }) => (
  <BarChart
    testId={`aging-${currency}`}
    data={agingChartRows(aging)}
    axes={{
      x: { field: 'bucket', fieldType: 'category', label: 'Age' },
      y: { field: 'amount', fieldType: 'linear', label: `Open (${currency})` },
    }}
    options={{ title: `Aging (${currency})`, showTooltips: true, showDataLabels: true }}
  />
);
