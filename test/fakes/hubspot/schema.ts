/**
 * The fake's static HubSpot schema: object types, the HubSpot-defined properties and groups seeded per portal,
 * and the association type ids (v4 `associationTypeId`, v3 `type` names, labels, reverse ids).
 */

export type ObjectTypeName = 'contacts' | 'companies' | 'deals' | 'invoices' | 'tasks' | 'notes';

export type ObjectTypeInfo = {
  name: ObjectTypeName;
  singular: string;
  objectTypeId: string;
  /** Upper-case name HubSpot uses in batch error messages ("Could not get some COMPANY objects"). */
  label: string;
  /** The property holding the creation time (`createdate`, or `hs_createdate` on activities and invoices). */
  createdProperty: string;
  /** Extra properties kept equal to hs_lastmodifieddate (contacts also carry `lastmodifieddate`). */
  modifiedAliases: string[];
  /** Properties returned when a read names none. */
  defaultProperties: string[];
  /** Text properties searched by a search request's `query`. */
  queryProperties: string[];
  /** Properties a create must set. */
  requiredOnCreate: string[];
  defaultGroup: { name: string; label: string };
};

export const OBJECT_TYPES: Record<ObjectTypeName, ObjectTypeInfo> = {
  contacts: {
    name: 'contacts', singular: 'contact', objectTypeId: '0-1', label: 'CONTACT', createdProperty: 'createdate',
    modifiedAliases: ['lastmodifieddate'], defaultProperties: ['email', 'firstname', 'lastname'],
    queryProperties: ['firstname', 'lastname', 'email', 'phone', 'company'], requiredOnCreate: [],
    defaultGroup: { name: 'contactinformation', label: 'Contact information' },
  },
  companies: {
    name: 'companies', singular: 'company', objectTypeId: '0-2', label: 'COMPANY', createdProperty: 'createdate',
    modifiedAliases: [], defaultProperties: ['name', 'domain'], queryProperties: ['name', 'domain', 'website', 'phone'],
    requiredOnCreate: [], defaultGroup: { name: 'companyinformation', label: 'Company information' },
  },
  deals: {
    name: 'deals', singular: 'deal', objectTypeId: '0-3', label: 'DEAL', createdProperty: 'createdate', modifiedAliases: [],
    defaultProperties: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage'], queryProperties: ['dealname'],
    requiredOnCreate: [], defaultGroup: { name: 'dealinformation', label: 'Deal information' },
  },
  invoices: {
    name: 'invoices', singular: 'invoice', objectTypeId: '0-53', label: 'INVOICE', createdProperty: 'hs_createdate',
    modifiedAliases: [], defaultProperties: [], queryProperties: ['hs_number'], requiredOnCreate: [],
    defaultGroup: { name: 'invoiceinformation', label: 'Invoice information' },
  },
  tasks: {
    name: 'tasks', singular: 'task', objectTypeId: '0-27', label: 'TASK', createdProperty: 'hs_createdate', modifiedAliases: [],
    defaultProperties: [], queryProperties: ['hs_task_subject'], requiredOnCreate: ['hs_timestamp'],
    defaultGroup: { name: 'taskinformation', label: 'Task information' },
  },
  notes: {
    name: 'notes', singular: 'note', objectTypeId: '0-46', label: 'NOTE', createdProperty: 'hs_createdate', modifiedAliases: [],
    defaultProperties: [], queryProperties: ['hs_note_body'], requiredOnCreate: ['hs_timestamp'],
    defaultGroup: { name: 'noteinformation', label: 'Note information' },
  },
};

/** Resolves a path's object type as HubSpot does: plural or singular name, or the object type id (`0-2`). */
export const resolveObjectType = (raw: string): ObjectTypeInfo | undefined => {
  const key = raw.toLowerCase();
  return Object.values(OBJECT_TYPES).find((t) => t.name === key || t.singular === key || t.objectTypeId === key);
};

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';

export const FIELD_TYPES: Record<PropertyType, readonly string[]> = {
  string: ['text', 'textarea', 'html', 'phonenumber', 'file', 'calculation_equation'],
  number: ['number', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox', 'calculation_equation'],
  bool: ['booleancheckbox', 'calculation_equation'],
};

export type OptionDef = { label: string; value: string; description?: string; displayOrder: number; hidden: boolean };

export type PropertyDef = {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: OptionDef[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  formField: boolean;
  calculated: boolean;
  externalOptions: boolean;
  hubspotDefined: boolean;
  readOnlyValue: boolean;
  readOnlyDefinition: boolean;
  calculationFormula?: string;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
};

export type GroupDef = { name: string; label: string; displayOrder: number; archived: boolean };

const options = (...values: string[]): OptionDef[] =>
  values.map((value, i) => ({ label: value.replace(/_/g, ' ').toLowerCase().replace(/^./, (c) => c.toUpperCase()), value, displayOrder: i, hidden: false }));

type Seed = [name: string, label: string, type: PropertyType, fieldType: string, extra?: Partial<PropertyDef>];

const SYSTEM: Partial<PropertyDef> = { readOnlyValue: true, formField: false };

const COMMON = (type: ObjectTypeInfo): Seed[] => [
  [type.createdProperty, 'Create date', 'datetime', 'date'],
  ['hs_lastmodifieddate', 'Last modified date', 'datetime', 'date', SYSTEM],
  ...type.modifiedAliases.map((name): Seed => [name, 'Last modified date', 'datetime', 'date', SYSTEM]),
  ['hs_object_id', 'Record ID', 'number', 'number', SYSTEM],
  ['hubspot_owner_id', 'Owner', 'enumeration', 'select', { externalOptions: true }],
];

const SEEDS: Record<ObjectTypeName, Seed[]> = {
  contacts: [
    ['email', 'Email', 'string', 'text', { hasUniqueValue: true }],
    ['firstname', 'First name', 'string', 'text'],
    ['lastname', 'Last name', 'string', 'text'],
    ['phone', 'Phone number', 'string', 'phonenumber'],
    ['company', 'Company name', 'string', 'text'],
  ],
  companies: [
    ['name', 'Company name', 'string', 'text'],
    ['domain', 'Company domain name', 'string', 'text'],
    ['website', 'Website URL', 'string', 'text'],
    ['phone', 'Phone number', 'string', 'phonenumber'],
    ['industry', 'Industry', 'enumeration', 'select', { options: options(
      'ACCOUNTING', 'AIRLINES_AVIATION', 'APPAREL_FASHION', 'ARCHITECTURE_PLANNING', 'AUTOMOTIVE', 'BANKING', 'BIOTECHNOLOGY',
      'BUILDING_MATERIALS', 'CHEMICALS', 'COMPUTER_HARDWARE', 'COMPUTER_SOFTWARE', 'CONSTRUCTION', 'CONSUMER_GOODS',
      'CONSUMER_SERVICES', 'EDUCATION_MANAGEMENT', 'FINANCIAL_SERVICES', 'FOOD_BEVERAGES', 'HOSPITAL_HEALTH_CARE',
      'HOSPITALITY', 'INFORMATION_TECHNOLOGY_AND_SERVICES', 'INSURANCE', 'LEGAL_SERVICES', 'LOGISTICS_AND_SUPPLY_CHAIN',
      'MACHINERY', 'MANAGEMENT_CONSULTING', 'MARKETING_AND_ADVERTISING', 'MECHANICAL_OR_INDUSTRIAL_ENGINEERING',
      'MEDICAL_DEVICES', 'NONPROFIT_ORGANIZATION_MANAGEMENT', 'PHARMACEUTICALS', 'REAL_ESTATE', 'RETAIL', 'TELECOMMUNICATIONS',
      'TRANSPORTATION_TRUCKING_RAILROAD', 'UTILITIES', 'WHOLESALE') }],
    ['country', 'Country/Region', 'string', 'text'],
    ['city', 'City', 'string', 'text'],
    ['annualrevenue', 'Annual revenue', 'number', 'number'],
    ['numberofemployees', 'Number of employees', 'number', 'number'],
    ['lifecyclestage', 'Lifecycle stage', 'enumeration', 'radio', { options: options(
      'subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other') }],
    ['description', 'Description', 'string', 'textarea'],
  ],
  deals: [
    ['dealname', 'Deal name', 'string', 'text'],
    ['amount', 'Amount', 'number', 'number'],
    ['dealstage', 'Deal stage', 'enumeration', 'radio', { options: options(
      'appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost') }],
    ['pipeline', 'Pipeline', 'enumeration', 'select', { options: options('default') }],
    ['closedate', 'Close date', 'datetime', 'date'],
    ['deal_currency_code', 'Currency', 'string', 'text'],
    ['dealtype', 'Deal type', 'enumeration', 'radio', { options: options('newbusiness', 'existingbusiness') }],
    ['description', 'Deal description', 'string', 'textarea'],
  ],
  invoices: [
    ['hs_invoice_status', 'Invoice status', 'enumeration', 'select', { options: options('draft', 'open', 'paid', 'voided') }],
    ['hs_amount_billed', 'Amount billed', 'number', 'number'],
    ['hs_balance_due', 'Balance due', 'number', 'number'],
    ['hs_amount_paid', 'Amount paid', 'number', 'number'],
    ['hs_due_date', 'Due date', 'date', 'date'],
    ['hs_invoice_date', 'Invoice date', 'date', 'date'],
    ['hs_number', 'Number', 'string', 'text'],
    ['hs_currency', 'Currency', 'string', 'text'],
    ['hs_invoice_billable', 'Billable', 'bool', 'booleancheckbox'],
    ['hs_invoice_link', 'Invoice link', 'string', 'text'],
    ['hs_allow_partial_payments', 'Allow partial payments', 'bool', 'booleancheckbox'],
  ],
  tasks: [
    ['hs_task_subject', 'Task title', 'string', 'text'],
    ['hs_task_body', 'Notes', 'string', 'html'],
    ['hs_task_status', 'Task status', 'enumeration', 'select', { options: options('NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED') }],
    ['hs_task_priority', 'Priority', 'enumeration', 'select', { options: options('NONE', 'LOW', 'MEDIUM', 'HIGH') }],
    ['hs_task_type', 'Task type', 'enumeration', 'select', { options: options('TODO', 'CALL', 'EMAIL', 'LINKED_IN', 'MEETING') }],
    ['hs_timestamp', 'Due date', 'datetime', 'date'],
  ],
  notes: [
    ['hs_note_body', 'Note body', 'string', 'html'],
    ['hs_timestamp', 'Activity date', 'datetime', 'date'],
  ],
};

export const BOOL_OPTIONS: OptionDef[] = [
  { label: 'Yes', value: 'true', displayOrder: 0, hidden: false },
  { label: 'No', value: 'false', displayOrder: 1, hidden: false },
];

/** The HubSpot-defined properties of a type, as a fresh portal has them. */
export const seedProperties = (type: ObjectTypeInfo, at: string): PropertyDef[] =>
  [...SEEDS[type.name], ...COMMON(type)].map(([name, label, propType, fieldType, extra], i) => ({
    name, label, type: propType, fieldType, groupName: type.defaultGroup.name, description: '',
    options: propType === 'bool' ? BOOL_OPTIONS : [], displayOrder: i, hasUniqueValue: false, hidden: false, formField: true,
    calculated: false, externalOptions: false, hubspotDefined: true, readOnlyValue: false, readOnlyDefinition: true,
    createdAt: at, updatedAt: at, archived: false, ...extra,
  }));

// ---- associations ----

export type AssociationTypeDef = {
  typeId: number;
  from: ObjectTypeName;
  to: ObjectTypeName;
  reverse: number;
  /** v3 `type` name (`deal_to_company`, `deal_to_company_unlabeled`). */
  name: string;
  /** v4 label: 'Primary' for the primary types, null for the default (unlabeled) ones. */
  label: string | null;
};

/**
 * [from, to, typeId, reverse typeId, label]: the default (unlabeled) type of each pair, and the primary labels.
 * Ids from HubSpot's association type table (the SDK's AssociationTypes enum) and its invoices guide.
 */
const PAIRS: Array<[ObjectTypeName, ObjectTypeName, number, number, string | null]> = [
  ['deals', 'companies', 341, 342, null],
  ['deals', 'companies', 5, 6, 'Primary'],
  ['contacts', 'companies', 279, 280, null],
  ['contacts', 'companies', 1, 2, 'Primary'],
  ['deals', 'contacts', 3, 4, null],
  ['invoices', 'companies', 179, 180, null],
  ['invoices', 'deals', 175, 176, null],
  ['invoices', 'contacts', 177, 178, null],
  ['tasks', 'companies', 192, 191, null],
  ['tasks', 'deals', 216, 215, null],
  ['tasks', 'contacts', 204, 203, null],
  ['notes', 'companies', 190, 189, null],
  ['notes', 'deals', 214, 213, null],
  ['notes', 'contacts', 202, 201, null],
];

const UNLABELED_SUFFIX_PAIRS = new Set(['deals>companies', 'companies>deals', 'contacts>companies', 'companies>contacts']);

const v3Name = (from: ObjectTypeName, to: ObjectTypeName, label: string | null): string =>
  `${OBJECT_TYPES[from].singular}_to_${OBJECT_TYPES[to].singular}${label === null && UNLABELED_SUFFIX_PAIRS.has(`${from}>${to}`) ? '_unlabeled' : ''}`;

export const ASSOCIATION_TYPES: Map<number, AssociationTypeDef> = new Map(
  PAIRS.flatMap(([from, to, id, reverse, label]): Array<[number, AssociationTypeDef]> => [
    [id, { typeId: id, from, to, reverse, name: v3Name(from, to, label), label }],
    [reverse, { typeId: reverse, from: to, to: from, reverse: id, name: v3Name(to, from, label), label }],
  ]),
);

/** The default (unlabeled) association type id from one type to another, if HubSpot defines the pair. */
export const defaultAssociationType = (from: ObjectTypeName, to: ObjectTypeName): AssociationTypeDef | undefined =>
  [...ASSOCIATION_TYPES.values()].find((t) => t.from === from && t.to === to && t.label === null);
