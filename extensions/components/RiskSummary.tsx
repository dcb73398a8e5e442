import { Flex, Tag, Text } from '@hubspot/ui-extensions';
import type { z } from 'zod';
import type { ReportRiskSchema } from '../card-api.ts';

type Risk = z.infer<typeof ReportRiskSchema>;

const TIER_VARIANT = { A: 'success', B: 'info', C: 'warning', D: 'error' } as const;

/** The risk tier tag of one currency and the reasons behind it. */
export const RiskSummary = ({ currency, risk }: { currency: string; risk: Risk }) => (
  <Flex direction="column" gap="xs">
    <Tag testId={`risk-${currency}`} variant={TIER_VARIANT[risk.tier]}>{`Risk ${risk.tier} · ${risk.score}/100`}</Tag>
    {risk.reasons.map((reason, i) => (
      <Text key={i} testId={`risk-reason-${currency}-${i}`} variant="microcopy">{reason}</Text>
    ))}
  </Flex>
);
