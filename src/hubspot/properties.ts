import type { Client } from '@hubspot/api-client';
import type { HubSpotObjectType } from '../store/schema';
import type { HubSpotCaller } from './caller';

/**
 * The `arbridge` property group and the properties ARBridge keeps on companies and deals: the roll-ups it
 * writes (see domain/rollups.ts) and the two it reads (an explicit accounting customer id on a company, a quote
 * or PO reference on a deal). `arbridge hubspot install-properties` and the install flow make HubSpot match
 * these definitions, creating what is missing and updating what differs.
 */
export const PROPERTY_GROUP = { name: 'arbridge', label: 'ARBridge (receivables)', displayOrder: -1 } as const;

export type PropertyDefinition = {
  name: string;
  label: string;
  description: string;
  type: 'string' | 'number' | 'date' | 'enumeration' | 'bool';
  fieldType: 'text' | 'textarea' | 'number' | 'date' | 'select' | 'booleancheckbox';
  options?: { label: string; value: string; displayOrder: number }[];
  /** Written by ARBridge; users should not edit it (shown read-only in HubSpot's UI through formField false). */
  computed: boolean;
};

const money = (name: string, label: string, description: string): PropertyDefinition =>
  ({ name, label, description, type: 'number', fieldType: 'number', computed: true });

const CURRENCY: PropertyDefinition = {
  name: 'arbridge_currency', label: 'AR currency', type: 'string', fieldType: 'text', computed: true,
  description: 'ISO 4217 code of the ARBridge amounts on this record (the currency most of its invoices use).',
};

export const COMPANY_PROPERTIES: readonly PropertyDefinition[] = [
  CURRENCY,
  money('arbridge_outstanding', 'AR outstanding', 'Open receivables at the last recompute, in the AR currency.'),
  money('arbridge_overdue', 'AR overdue', 'Open receivables past their due date.'),
  money('arbridge_overdue_over_60', 'AR overdue > 60 days', 'Open receivables more than 60 days past due.'),
  { name: 'arbridge_open_invoices', label: 'Open invoices', type: 'number', fieldType: 'number', computed: true,
    description: 'Invoices issued and not yet settled.' },
  { name: 'arbridge_avg_days_late', label: 'Average days late', type: 'number', fieldType: 'number', computed: true,
    description: 'Amount-weighted days late of recently paid invoices and open past-due ones.' },
  { name: 'arbridge_on_time_rate', label: 'On-time payment rate (%)', type: 'number', fieldType: 'number', computed: true,
    description: 'Share of invoices closed in the DSO window that were paid by their due date, in percent.' },
  { name: 'arbridge_dso', label: 'DSO (countback, days)', type: 'number', fieldType: 'number', computed: true,
    description: 'Days sales outstanding by the countback method.' },
  { name: 'arbridge_risk_score', label: 'Payment risk score', type: 'number', fieldType: 'number', computed: true,
    description: '0–100, 100 safest; see the tier and top reason.' },
  { name: 'arbridge_risk_tier', label: 'Payment risk tier', type: 'enumeration', fieldType: 'select', computed: true,
    description: 'A (safest) to D (riskiest).',
    options: ['A', 'B', 'C', 'D'].map((value, displayOrder) => ({ label: value, value, displayOrder })) },
  { name: 'arbridge_risk_reason', label: 'Payment risk: top reason', type: 'string', fieldType: 'text', computed: true,
    description: 'The main reason behind the risk score, in plain words.' },
  { name: 'arbridge_last_payment_date', label: 'Last payment date', type: 'date', fieldType: 'date', computed: true,
    description: 'Date of the latest payment received from this company.' },
  { name: 'arbridge_customer_id', label: 'Accounting customer id', type: 'string', fieldType: 'text', computed: false,
    description: 'Set this to the customer id in your accounting system (or source:id) to link the company explicitly.' },
];

export const DEAL_PROPERTIES: readonly PropertyDefinition[] = [
  CURRENCY,
  money('arbridge_invoiced', 'Invoiced', 'Total of this deal\'s invoices issued and not voided.'),
  money('arbridge_collected', 'Collected', 'Payments received against this deal\'s invoices.'),
  money('arbridge_outstanding', 'AR outstanding', 'Open amount of this deal\'s invoices.'),
  money('arbridge_overdue', 'AR overdue', 'Open amount of this deal\'s invoices past their due date.'),
  { name: 'arbridge_invoice_count', label: 'Invoices', type: 'number', fieldType: 'number', computed: true,
    description: 'Invoices linked to this deal.' },
  { name: 'arbridge_credit_check', label: 'Credit check', type: 'enumeration', fieldType: 'select', computed: true,
    description: 'Whether the customer\'s outstanding plus this deal\'s amount not yet invoiced stays within its credit limit.',
    options: [
      { label: 'Within the credit limit', value: 'ok', displayOrder: 0 },
      { label: 'Over the credit limit', value: 'over_limit', displayOrder: 1 },
      { label: 'No credit limit', value: 'no_limit', displayOrder: 2 },
    ] },
  { name: 'arbridge_credit_utilisation', label: 'Credit utilisation (%)', type: 'number', fieldType: 'number', computed: true,
    description: 'Outstanding plus this deal\'s amount not yet invoiced, as a percentage of the customer\'s credit limit.' },
  { name: 'arbridge_reference', label: 'Quote / PO reference', type: 'string', fieldType: 'text', computed: false,
    description: 'A quote or purchase-order number that invoices carry; used to link invoices to this deal.' },
];

export const PROPERTIES_BY_TYPE: Readonly<Record<HubSpotObjectType, readonly PropertyDefinition[]>> = {
  companies: COMPANY_PROPERTIES,
  deals: DEAL_PROPERTIES,
};

type Existing = {
  name: string; label: string; description: string; type: string; fieldType: string; groupName: string;
  formField?: boolean; options: { label: string; value: string; displayOrder?: number }[];
};

/** The fields of `wanted` that differ from what HubSpot holds; empty when the property is as defined. */
export const definitionChanges = (wanted: PropertyDefinition, existing: Existing): string[] => {
  const changes: string[] = [];
  if (existing.label !== wanted.label) changes.push('label');
  if ((existing.description ?? '') !== wanted.description) changes.push('description');
  if (existing.type !== wanted.type) changes.push('type');
  if (existing.fieldType !== wanted.fieldType) changes.push('fieldType');
  if (existing.groupName !== PROPERTY_GROUP.name) changes.push('groupName');
  if ((existing.formField ?? false) !== !wanted.computed) changes.push('formField');
  const options = (wanted.options ?? []).map((o) => `${o.value}=${o.label}@${o.displayOrder}`).join('|');
  const had = [...existing.options].sort((a, b) => (a.displayOrder ?? 0) - (b.displayOrder ?? 0))
    .map((o) => `${o.value}=${o.label}@${o.displayOrder ?? 0}`).join('|');
  if (options !== had) changes.push('options');
  return changes;
};

const toCreate = (d: PropertyDefinition) => ({
  name: d.name, label: d.label, description: d.description, type: d.type, fieldType: d.fieldType,
  groupName: PROPERTY_GROUP.name, formField: !d.computed, ...(d.options ? { options: d.options } : {}),
});

export type InstallReport = Record<HubSpotObjectType, { groupCreated: boolean; created: string[]; updated: string[]; unchanged: number }>;

/**
 * Makes HubSpot hold the group and properties above, for companies and deals: one read of the groups and one
 * of the properties per object type, one batch create for whatever is missing, one update per property whose
 * definition changed. A second run with nothing to change makes reads only.
 */
export const installProperties = async (client: Client, caller: HubSpotCaller): Promise<InstallReport> => {
  const report = {} as InstallReport;
  for (const objectType of ['companies', 'deals'] as const) {
    const groups = await caller.call(() => client.crm.properties.groupsApi.getAll(objectType));
    const group = groups.results.find((g) => g.name === PROPERTY_GROUP.name);
    let groupCreated = false;
    if (!group) {
      await caller.call(() => client.crm.properties.groupsApi.create(objectType, { ...PROPERTY_GROUP }));
      groupCreated = true;
    } else if (group.label !== PROPERTY_GROUP.label) {
      await caller.call(() => client.crm.properties.groupsApi.update(objectType, PROPERTY_GROUP.name, { label: PROPERTY_GROUP.label }));
    }
    const existing = await caller.call(() => client.crm.properties.coreApi.getAll(objectType));
    const byName = new Map(existing.results.map((p) => [p.name, p]));
    const missing: PropertyDefinition[] = [];
    const updated: string[] = [];
    let unchanged = 0;
    for (const wanted of PROPERTIES_BY_TYPE[objectType]) {
      const have = byName.get(wanted.name);
      if (!have) {
        missing.push(wanted);
        continue;
      }
      const changes = definitionChanges(wanted, have as unknown as Existing);
      if (changes.length === 0) {
        unchanged += 1;
        continue;
      }
      const { name: _name, ...update } = toCreate(wanted);
      await caller.call(() => client.crm.properties.coreApi.update(objectType, wanted.name, update as never));
      updated.push(wanted.name);
    }
    if (missing.length > 0) {
      await caller.call(() => client.crm.properties.batchApi.create(objectType, { inputs: missing.map(toCreate) as never }));
    }
    report[objectType] = { groupCreated, created: missing.map((d) => d.name), updated, unchanged };
  }
  return report;
};

/** One sentence on what an install run did, for people. */
export const describeInstall = (report: InstallReport): string => {
  const created = report.companies.created.length + report.deals.created.length;
  const updated = report.companies.updated.length + report.deals.updated.length;
  return created + updated === 0
    ? 'The ARBridge properties on companies and deals are in place.'
    : `Created ${created} and updated ${updated} ARBridge properties on companies and deals.`;
};
