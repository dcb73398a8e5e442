import { LineChart, Text } from '@hubspot/ui-extensions';
import type { CompanySummary } from '../card-api.ts';

type Trend = NonNullable<CompanySummary['currencies'][number]['trend']>;

/** One chart row per month with invoices paid: the month and their average days late as the service gives it. */
export const trendChartRows = (trend: Trend): Array<{ month: string; days_late: number; paid: number }> =>
  trend.flatMap(({ month, paid, avg_days_late }) => (avg_days_late === null ? [] : [{ month, days_late: avg_days_late, paid }]));

/** Days late per month (trend) of one currency; a line of text when nothing was paid in the period. */
export const TrendChart = ({ currency, trend }: { currency: string; trend: Trend }) => {
  const rows = trendChartRows(trend);
  if (rows.length === 0) return <Text testId={`trend-${currency}`} variant="microcopy">No invoices paid in the last 12 months.</Text>;
  return (
    <LineChart
      testId={`trend-${currency}`}
      data={rows}
      axes={{
        x: { field: 'month', fieldType: 'category', label: 'Month paid' },
        y: { field: 'days_late', fieldType: 'linear', label: 'Average days late' },
      }}
      options={{ title: `Days late per month (${currency})`, showTooltips: true }}
    />
  );
};
