import { jest } from '@jest/globals';
import { hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { CompanyCard, DealCard, setApiBaseUrl } from '../../extensions/index.ts';
import { formatMinor } from '../../src/domain/money.ts';
import { PORTAL, SECRET, USER } from './demo-portal.tsx';
import { hubspotProxy, PUBLIC_URL, type Service } from './service-harness.tsx';

// Renders a card on a record of the demo portal with HubSpot's test renderer. Its `hubspot.fetch` is either HubSpot's
// proxy to the live service (signed requests over loopback), or, for states the live service cannot be held in
// (a request still under way, an answer it would never send), one of the service's real answers captured earlier.

export type CardKind = 'company' | 'deal';

/** A card's `hubspot.fetch` call and what came of it: the service's status, or null when it never got an answer. */
export type Sent = { method: string; url: string; body: unknown; status: number | null };

const who = () => ({ portalId: PORTAL, userId: USER.id, userEmail: USER.email });

/** The URL a card calls for `pathAndQuery` on the service. */
export const serviceUrl = (pathAndQuery: string): string => `${PUBLIC_URL}${pathAndQuery}`;

export const cardUrl = (card: CardKind, objectId: string): string => serviceUrl(`/api/v1/cards/${card}?objectId=${objectId}`);

/**
 * HubSpot's proxy to the live service. `secret` is what the proxy signs with (a wrong one gets the service's 401),
 * and can be changed between requests; `sent` lists the card's requests as it made them.
 */
export const liveService = (service: Service) => {
  const line = { secret: SECRET, sent: [] as Sent[] };
  const fetch: typeof hubspot.fetch = async (url, options) => {
    const sent: Sent = { method: options?.method ?? 'GET', url: String(url), body: options?.body, status: null };
    line.sent.push(sent);
    const response = await hubspotProxy(service.origin, line.secret, who)(url, options);
    sent.status = response.status;
    return response;
  };
  return { line, fetch };
};

/** One answer of the live service to a signed GET of `url`, as status and parsed JSON body. */
export const captureAnswer = async (service: Service, url: string): Promise<{ status: number; body: unknown }> => {
  const response = await hubspotProxy(service.origin, SECRET, who)(url, { method: 'GET' });
  return { status: response.status, body: await response.json() };
};

/** A `hubspot.fetch` that answers every request with `answer`, once `release` is called (until then, still under way). */
export const heldAnswer = (answer: { status: number; body: unknown }) => {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => { release = resolve; });
  const sent: string[] = [];
  const fetch: typeof hubspot.fetch = async (url) => {
    sent.push(String(url));
    await released;
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } });
  };
  return { fetch, release, sent };
};

const WAIT = { timeoutInMs: 5_000 };

/**
 * Renders `card` for record `objectId` as the demo user in `locale`, its `hubspot.fetch` being `fetch`, calling the
 * service at `baseUrl` (the URL HubSpot permits unless told otherwise).
 */
export const renderCard = (
  card: CardKind, objectId: string, fetch: typeof hubspot.fetch, { locale = 'en-US', baseUrl = PUBLIC_URL }: { locale?: string; baseUrl?: string } = {},
) => {
  setApiBaseUrl(baseUrl);
  jest.spyOn(hubspot, 'fetch').mockImplementation(fetch);
  const renderer = createRenderer('crm.record.tab');
  const { context } = renderer.mocks;
  context.crm.objectId = Number(objectId);
  context.portal.id = PORTAL;
  context.user.id = USER.id;
  context.user.email = USER.email;
  context.user.locale = locale;
  renderer.render(card === 'company' ? <CompanyCard /> : <DealCard />);
  return { ...renderer, waitFor: (check: () => void) => renderer.waitFor(check, WAIT) };
};

export type Rendered = ReturnType<typeof renderCard>;

// What a person reads, formatted with Intl in their locale from the figures the tests compute.

export const moneyText = (minor: number, currency: string, locale: string): string =>
  new Intl.NumberFormat(locale, { style: 'currency', currency }).format(formatMinor(minor, currency) as Intl.StringNumericLiteral);

export const dateText = (isoDate: string, locale: string): string =>
  new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${isoDate}T00:00:00Z`));

export const countText = (value: number | null, locale: string): string =>
  value === null ? '—' : new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);

export const percentText = (rate: number | null, locale: string): string =>
  rate === null ? '—' : new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(rate);

export const daysText = (days: number | null, locale: string): string =>
  days === null ? '—' : `${new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(days)} d`;

/** How each invoice status reads, and its tag colour. */
export const STATUS_TAG = {
  paid: ['Paid', 'success'], open: ['Open', 'info'], overdue: ['Overdue', 'danger'], void: ['Void', 'default'],
  written_off: ['Written off', 'warning'], credited: ['Credited', 'default'],
} as const;

/** The colour of each risk tier's tag. */
export const TIER_VARIANT = { A: 'success', B: 'info', C: 'warning', D: 'error' } as const;
