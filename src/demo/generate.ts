import { fromDayNumber, isIsoDate, monthStart, toDayNumber } from '../domain/calendar';
import { currencyExponent, isCurrencyCode } from '../domain/money';
import type { CustomerFact, InvoiceFact, IsoDate, Settlement, SettlementKind } from '../domain/types';

// A seeded, deterministic demo portfolio: customers with distinct payment behaviours, their invoices and
// settlements, streamed one customer at a time.

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness

export type Rng = {
  /** Uniform in [0, 1). */
  next: () => number;
  /** Uniform integer in [min, max]. */
  int: (min: number, max: number) => number;
  chance: (probability: number) => boolean;
  pick: <T>(items: readonly T[]) => T;
  /** Standard normal (mean 0, deviation 1). */
  normal: () => number;
};

/** mulberry32: a small, fast 32-bit generator; the same seed always gives the same sequence. */
export const createRng = (seed: number): Rng => {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  const normal = (): number => {
    const u = 1 - next(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, int, chance: (p) => next() < p, pick, normal };
};

/** An independent seed for the `index`-th stream of `seed` (so each customer's draws stand alone). */
const deriveSeed = (seed: number, index: number): number => {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

const weighted = <T>(rng: Rng, entries: readonly (readonly [T, number])[]): T => {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  let roll = rng.next() * total;
  for (const [value, weight] of entries) {
    roll -= weight;
    if (roll < 0) return value;
  }
  const last = entries[entries.length - 1];
  if (!last) throw new Error('weighted pick from an empty list');
  return last[0];
};

// ---------------------------------------------------------------------------------------------------------
// Vocabulary

export const PAYMENT_BEHAVIOURS = ['prompt', 'slow', 'erratic', 'deteriorating', 'disputing', 'seasonal', 'defaulting'] as const;
/**
 * How a customer pays: prompt (on time or early), slow (steadily 2–6 weeks late), erratic (unpredictable),
 * deteriorating (later and later over time), disputing (disputes some invoices, leaves some unpaid),
 * seasonal (late in three months of the year), defaulting (stops paying; old invoices are written off).
 */
export type PaymentBehaviour = (typeof PAYMENT_BEHAVIOURS)[number];

const BEHAVIOUR_WEIGHTS: readonly (readonly [PaymentBehaviour, number])[] = [
  ['prompt', 34], ['slow', 20], ['erratic', 14], ['deteriorating', 9], ['disputing', 9], ['seasonal', 9], ['defaulting', 5],
];

export const SALES_REPS = [
  'Ana Souza', 'Ben Carter', 'Chloe Martin', 'David Kim', 'Elena Rossi', 'Farid Haddad', 'Grace Okafor', 'Hiro Tanaka',
] as const;

export const PRODUCTS = ['Platform License', 'Support Plan', 'Implementation', 'Training', 'Hardware Kit', 'Data Add-on'] as const;
const PRODUCT_PRICE = [1.6, 0.5, 2.2, 0.35, 1.1, 0.7];

const INDUSTRIES = [
  'Manufacturing', 'Software', 'Healthcare', 'Retail', 'Logistics', 'Construction', 'Financial Services', 'Education',
  'Hospitality', 'Energy',
] as const;

const TERMS: readonly (readonly [number, number])[] = [[15, 15], [30, 55], [45, 18], [60, 12]];

type Country = { code: string; tld: string; suffixes: readonly string[] };
const COUNTRIES: Readonly<Record<string, Country>> = {
  US: { code: 'US', tld: '.com', suffixes: ['Inc.', 'LLC', 'Corp.', 'Co.'] },
  CA: { code: 'CA', tld: '.ca', suffixes: ['Ltd.', 'Inc.'] },
  DE: { code: 'DE', tld: '.de', suffixes: ['GmbH', 'AG'] },
  FR: { code: 'FR', tld: '.fr', suffixes: ['SAS', 'SA'] },
  NL: { code: 'NL', tld: '.nl', suffixes: ['B.V.'] },
  ES: { code: 'ES', tld: '.es', suffixes: ['S.L.', 'S.A.'] },
  IT: { code: 'IT', tld: '.it', suffixes: ['S.p.A.', 'S.r.l.'] },
  IE: { code: 'IE', tld: '.ie', suffixes: ['Ltd'] },
  GB: { code: 'GB', tld: '.co.uk', suffixes: ['Ltd', 'PLC'] },
  JP: { code: 'JP', tld: '.co.jp', suffixes: ['K.K.', 'G.K.'] },
};

const COUNTRIES_BY_CURRENCY: Readonly<Record<string, readonly (readonly [string, number])[]>> = {
  USD: [['US', 90], ['CA', 10]],
  EUR: [['DE', 30], ['FR', 25], ['NL', 15], ['ES', 12], ['IT', 10], ['IE', 8]],
  GBP: [['GB', 1]],
  JPY: [['JP', 1]],
};

const CURRENCY_WEIGHT: Readonly<Record<string, number>> = { USD: 70, EUR: 14, GBP: 10, JPY: 6 };
/** Units of each currency per US dollar, for amounts of similar size. */
const PER_USD: Readonly<Record<string, number>> = { USD: 1, EUR: 0.92, GBP: 0.79, JPY: 150, CAD: 1.36, AUD: 1.5, CHF: 0.9 };

const NAME_FIRST = [
  'North', 'Blue', 'Silver', 'Bright', 'Summit', 'Harbor', 'Cedar', 'Iron', 'Golden', 'Clear', 'Red', 'Green', 'Stone',
  'River', 'Pine', 'Eagle', 'Atlas', 'Nova', 'Vertex', 'Prime', 'Oak', 'Falcon', 'Maple', 'Coastal', 'Urban', 'Lake',
];
const NAME_SECOND = [
  'field', 'wave', 'line', 'point', 'works', 'bridge', 'gate', 'stone', 'ridge', 'path', 'light', 'peak', 'wood', 'view',
  'crest', 'port', 'forge', 'mark', 'stream', 'haven',
];
const NAME_TRADE = [
  'Foods', 'Logistics', 'Dental', 'Systems', 'Labs', 'Supply', 'Health', 'Builders', 'Analytics', 'Energy', 'Retail',
  'Partners', 'Motors', 'Media', 'Studios', 'Hotels', 'Academy', 'Pharma', 'Robotics', 'Textiles',
];

// ---------------------------------------------------------------------------------------------------------
// Options and output

export type PortfolioOptions = {
  seed?: number;
  customers?: number;
  /** Total invoices across all customers (exactly). */
  invoices?: number;
  /** Last day of the portfolio: nothing is issued, paid, credited or voided after it. */
  endDate: IsoDate;
  /** Calendar months of invoicing, ending with endDate's month. */
  months?: number;
  currencies?: readonly string[];
};

export const DEFAULT_PORTFOLIO = {
  seed: 1,
  customers: 200,
  invoices: 5_000,
  months: 24,
  currencies: ['USD', 'EUR', 'GBP', 'JPY'],
} as const;

export type PortfolioItem = { customer: CustomerFact; behaviour: PaymentBehaviour; invoices: InvoiceFact[] };

// ---------------------------------------------------------------------------------------------------------
// Customers

type Profile = {
  behaviour: PaymentBehaviour;
  currency: string;
  rep: string;
  terms: number;
  favouriteProduct: number;
  baseUsd: number; // typical invoice size in dollars
  startDay: number; // first day the customer is invoiced
  slowMonths: ReadonlySet<number>; // seasonal: months (1–12) whose due dates are paid late
  failureDay: number; // defaulting: from here on nothing new is paid
  worstLateness: number; // deteriorating: days late at the end of the period
};

const slug = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '');

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Splits `total` invoices over customers: skewed (a few big accounts), every customer one when possible. */
const allocateInvoices = (rng: Rng, customers: number, total: number): number[] => {
  const weights = Array.from({ length: customers }, () => Math.exp(rng.normal() * 0.9));
  const floor = total >= customers ? 1 : 0;
  const rest = total - floor * customers;
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => floor + Math.floor((rest * w) / sum));
  let missing = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = weights
    .map((w, i) => ({ i, remainder: (rest * w) / sum - Math.floor((rest * w) / sum) }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (let k = 0; missing > 0; k = (k + 1) % customers, missing -= 1) {
    const index = byRemainder[k]?.i ?? 0;
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts;
};

// ---------------------------------------------------------------------------------------------------------
// Invoices and their settlements

type Plan = { day: number; amount: number; kind: SettlementKind };

const ID_PREFIX: Readonly<Record<SettlementKind, string>> = { payment: 'PAY', credit_note: 'CN', write_off: 'WO' };

/** `share` of `total`, rounded, leaving at least one minor unit on each side. */
const portion = (total: number, share: number): number => Math.max(1, Math.min(total - 1, Math.round(total * share)));

/**
 * Generates the portfolio, one customer with all its invoices at a time. Same options, same output. Ids:
 * customers `C00001`, invoices `INV-000001` (numbered across the portfolio), settlements
 * `PAY-000001-1`, `CN-000001-2`, `WO-000001-3` (invoice number, then position on the invoice).
 */
export function* generatePortfolio(options: PortfolioOptions): Generator<PortfolioItem> {
  const seed = options.seed ?? DEFAULT_PORTFOLIO.seed;
  const customerCount = options.customers ?? DEFAULT_PORTFOLIO.customers;
  const invoiceCount = options.invoices ?? DEFAULT_PORTFOLIO.invoices;
  const months = options.months ?? DEFAULT_PORTFOLIO.months;
  const currencies = (options.currencies ?? DEFAULT_PORTFOLIO.currencies).map((c) => c.trim().toUpperCase());
  if (!isIsoDate(options.endDate)) throw new Error(`endDate "${options.endDate}" is not a YYYY-MM-DD date`);
  if (!Number.isInteger(customerCount) || customerCount < 0) throw new Error('customers must be a whole number, 0 or more');
  if (!Number.isInteger(invoiceCount) || invoiceCount < 0) throw new Error('invoices must be a whole number, 0 or more');
  if (invoiceCount > 0 && customerCount === 0) throw new Error('invoices need at least one customer');
  if (!Number.isInteger(months) || months < 1) throw new Error('months must be a whole number, 1 or more');
  if (currencies.length === 0 || !currencies.every(isCurrencyCode)) throw new Error('currencies must be 3-letter codes');

  const endDay = toDayNumber(options.endDate);
  const startDay = toDayNumber(monthStart(options.endDate, months - 1));
  const span = endDay - startDay;
  const currencyWeights = currencies.map((c) => [c, CURRENCY_WEIGHT[c] ?? 5] as const);

  // Day numbers repeat: one ISO string per day.
  const isoCache = new Map<number, IsoDate>();
  const iso = (day: number): IsoDate => {
    let text = isoCache.get(day);
    if (text === undefined) {
      text = fromDayNumber(day);
      isoCache.set(day, text);
    }
    return text;
  };
  const monthOfDay = (day: number): number => Number(iso(day).slice(5, 7));

  const counts = allocateInvoices(createRng(deriveSeed(seed, 0x7fffffff)), customerCount, invoiceCount);
  const usedStems = new Set<string>();
  const calendar: Calendar = { startDay, endDay, iso, monthOfDay };
  let invoiceSeq = 0;

  for (let index = 0; index < customerCount; index += 1) {
    const rng = createRng(deriveSeed(seed, index));
    const behaviour = weighted(rng, BEHAVIOUR_WEIGHTS);
    const currency = weighted(rng, currencyWeights);
    const country = COUNTRIES[weighted(rng, COUNTRIES_BY_CURRENCY[currency] ?? [['US', 1]])] ?? { code: 'US', tld: '.com', suffixes: ['Inc.'] };

    // A readable company name, unique with its domain ("Novaport Energy LLC", novaportenergy.com).
    const base = `${rng.pick(NAME_FIRST)}${rng.pick(NAME_SECOND)}`;
    const trade = rng.pick(NAME_TRADE);
    let stem = `${base} ${trade}`;
    for (let n = 2; usedStems.has(stem); n += 1) stem = `${base} ${trade} ${n}`;
    usedStems.add(stem);
    const customer: CustomerFact = {
      id: `C${pad(index + 1, 5)}`,
      name: `${stem} ${rng.pick(country.suffixes)}`,
      domain: `${slug(stem)}${country.tld}`,
      industry: rng.pick(INDUSTRIES),
      country: country.code,
    };

    const firstSlowMonth = rng.int(1, 12);
    const profile: Profile = {
      behaviour,
      currency,
      rep: rng.pick(SALES_REPS),
      terms: weighted(rng, TERMS),
      favouriteProduct: rng.int(0, PRODUCTS.length - 1),
      baseUsd: Math.min(120_000, Math.max(200, Math.exp(Math.log(3_000) + rng.normal() * 0.9))),
      startDay: rng.chance(0.75) ? startDay : startDay + rng.int(0, Math.floor(span * 0.8)),
      slowMonths: new Set([0, 1, 2].map((k) => ((firstSlowMonth - 1 + k) % 12) + 1)),
      failureDay: startDay + Math.round(span * (0.45 + rng.next() * 0.4)),
      worstLateness: rng.int(60, 120),
    };

    const count = counts[index] ?? 0;
    const issueDays = Array.from({ length: count }, () => rng.int(profile.startDay, endDay)).sort((a, b) => a - b);
    const invoices: InvoiceFact[] = [];
    for (const issueDay of issueDays) {
      invoiceSeq += 1;
      invoices.push(makeInvoice(rng, profile, customer.id, invoiceSeq, issueDay, calendar));
    }
    yield { customer, behaviour, invoices };
  }
}

type Calendar = { startDay: number; endDay: number; iso: (day: number) => IsoDate; monthOfDay: (day: number) => number };

/** Days after the due date this customer pays this invoice (negative: early). */
const lateness = (rng: Rng, profile: Profile, issueDay: number, dueDay: number, cal: Calendar): number => {
  switch (profile.behaviour) {
    case 'prompt':
      return rng.chance(0.06) ? rng.int(3, 14) : rng.int(-10, 2);
    case 'slow':
      return rng.int(8, 30) + rng.int(0, 25);
    case 'erratic': {
      const roll = rng.next();
      if (roll < 0.45) return rng.int(-7, 5);
      if (roll < 0.8) return rng.int(15, 50);
      return rng.int(50, 130);
    }
    case 'deteriorating': {
      const progress = Math.max(0, (issueDay - cal.startDay) / Math.max(1, cal.endDay - cal.startDay));
      return Math.round(profile.worstLateness * progress ** 1.4) + rng.int(-4, 6);
    }
    case 'seasonal':
      return profile.slowMonths.has(cal.monthOfDay(dueDay)) ? rng.int(25, 65) : rng.int(-4, 5);
    case 'disputing':
      return rng.int(2, 25);
    case 'defaulting': {
      // Later and later as the failure approaches.
      const before = profile.failureDay - issueDay;
      return before > 120 ? rng.int(0, 20) : rng.int(20, 60);
    }
    default:
      return 0;
  }
};

const makeInvoice = (
  rng: Rng,
  profile: Profile,
  customerId: string,
  seq: number,
  issueDay: number,
  cal: Calendar,
): InvoiceFact => {
  const number = pad(seq, 6);
  const productIndex = rng.chance(0.6) ? profile.favouriteProduct : rng.int(0, PRODUCTS.length - 1);
  const terms = rng.chance(0.95) ? profile.terms : weighted(rng, TERMS);
  const dueDay = issueDay + terms;

  // Amount: the customer's typical size, the product's price level, some spread; round figures half the time.
  const exponent = currencyExponent(profile.currency);
  const usd = profile.baseUsd * (PRODUCT_PRICE[productIndex] ?? 1) * Math.exp(rng.normal() * 0.45);
  const major = Math.max(50, usd) * (PER_USD[profile.currency] ?? 1);
  const roundTo = rng.chance(0.5) ? 10 ** Math.max(1, Math.round(Math.log10(major)) - 2) : 10 ** -exponent;
  const totalMinor = Math.max(1, Math.round(Math.round(major / roundTo) * roundTo * 10 ** exponent));

  const invoice: InvoiceFact = {
    id: `INV-${number}`,
    number: String(100_000 + seq),
    customerId,
    currency: profile.currency,
    totalMinor,
    issueDate: cal.iso(issueDay),
    dueDate: cal.iso(dueDay),
    voidedDate: null,
    disputed: false,
    salesRep: rng.chance(0.92) ? profile.rep : rng.pick(SALES_REPS),
    product: PRODUCTS[productIndex] ?? null,
    dealId: rng.chance(0.55) ? `DEAL-${number}` : null,
    terms: `Net ${terms}`,
    settlements: [],
  };

  if (rng.chance(0.012)) {
    const voidDay = issueDay + rng.int(1, 20);
    if (voidDay <= cal.endDay) return { ...invoice, voidedDate: cal.iso(voidDay) };
  }

  const plans: Plan[] = [];
  let disputeCase = false;
  const payDay = Math.max(issueDay + 1, dueDay + lateness(rng, profile, issueDay, dueDay, cal));

  if (profile.behaviour === 'defaulting' && payDay >= profile.failureDay) {
    // Never paid in full: sometimes a part before the failure, then a write-off once hopeless.
    let paid = 0;
    if (rng.chance(0.25) && profile.failureDay - issueDay > 10) {
      paid = portion(totalMinor, 0.2 + rng.next() * 0.3);
      plans.push({ day: issueDay + rng.int(5, profile.failureDay - issueDay - 1), amount: paid, kind: 'payment' });
    }
    if (rng.chance(0.8)) {
      plans.push({ day: Math.max(dueDay + 150, profile.failureDay + 120) + rng.int(0, 45), amount: totalMinor - paid, kind: 'write_off' });
    }
  } else if (profile.behaviour === 'disputing' && rng.chance(0.3)) {
    disputeCase = true;
    const outcome = rng.next();
    if (outcome < 0.4) {
      // Left unpaid; the oldest are eventually written off.
      if (rng.chance(0.5)) plans.push({ day: dueDay + rng.int(180, 300), amount: totalMinor, kind: 'write_off' });
    } else if (outcome < 0.75) {
      const credit = portion(totalMinor, 0.1 + rng.next() * 0.4);
      const creditDay = dueDay + rng.int(20, 60);
      plans.push({ day: creditDay, amount: credit, kind: 'credit_note' });
      plans.push({ day: creditDay + rng.int(10, 60), amount: totalMinor - credit, kind: 'payment' });
    } else {
      plans.push({ day: dueDay + rng.int(40, 100), amount: totalMinor, kind: 'payment' });
    }
  } else {
    let remaining = totalMinor;
    if (totalMinor >= 100 && rng.chance(0.03)) {
      const credit = portion(totalMinor, 0.05 + rng.next() * 0.15);
      plans.push({ day: Math.min(payDay, issueDay + rng.int(3, 25)), amount: credit, kind: 'credit_note' });
      remaining -= credit;
    }
    const installments = profile.behaviour === 'slow' || profile.behaviour === 'erratic' ? 0.2 : 0.07;
    if (remaining >= 100 && payDay - issueDay >= 4 && rng.chance(installments)) {
      const first = portion(remaining, 0.3 + rng.next() * 0.4);
      plans.push({ day: issueDay + rng.int(1, payDay - issueDay - 1), amount: first, kind: 'payment' });
      remaining -= first;
    }
    if (remaining >= 200 && rng.chance(0.01)) {
      // Short-paid by a little; the difference is written off later.
      const short = portion(remaining, 0.01 + rng.next() * 0.02);
      plans.push({ day: payDay, amount: remaining - short, kind: 'payment' });
      plans.push({ day: payDay + rng.int(30, 90), amount: short, kind: 'write_off' });
    } else {
      plans.push({ day: payDay, amount: remaining, kind: 'payment' });
    }
  }

  // What has happened by the end date; later settlements have simply not happened yet.
  const settlements: Settlement[] = plans
    .filter((p) => p.day <= cal.endDay && p.amount > 0)
    .sort((a, b) => a.day - b.day)
    .map((p, i) => ({ id: `${ID_PREFIX[p.kind]}-${number}-${i + 1}`, date: cal.iso(p.day), amountMinor: p.amount, kind: p.kind }));
  const settled = settlements.reduce((sum, s) => sum + s.amountMinor, 0);
  // A dispute is flagged while the invoice is still open.
  return { ...invoice, settlements, disputed: disputeCase && settled < totalMinor };
};
