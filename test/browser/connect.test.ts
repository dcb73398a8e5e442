import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ConnectLinkResponseSchema } from '../../extensions/connect-api';
import { startAccountingFakes, type AccountingFakes } from '../fakes/accounting-oauth';
import { cardQuery, sdkSignV3 } from '../helpers/sign';
import { describeEachStore } from '../helpers/stores';
import { describeWithChromium, launchChromium, startTestService, type TestService } from './helpers';

// The connect page and the accounting OAuth callback pages as a person uses them: real headless Chromium
// against the real service on loopback, with fake Xero, QuickBooks and Stripe servers behind it.

const PORTAL = 650_001;
const SECRET = 'hubspot-secret';
const STRIPE_KEY = 'rk_live_51HqLyjWDarjtT1zdBrowserKey01';

describeWithChromium('connect page in Chromium', () => {
  describeEachStore('accounting connections in a browser', (backend) => {
    let browser: Browser;
    let fakes: AccountingFakes;
    let service: TestService;
    let context: BrowserContext;
    let page: Page;
    /** Content-Security-Policy violations Chromium reported (the pages' own style and markup must not cause any). */
    let cspViolations: string[];

    beforeAll(async () => {
      fakes = await startAccountingFakes();
      fakes.stripe.addKey(STRIPE_KEY, { account: { id: 'acct_1Nv0FGQ9RKHgCVdK', displayName: 'Acme Inc' } });
      service = await startTestService(backend, {
        HUBSPOT_CLIENT_ID: 'hubspot-client', HUBSPOT_CLIENT_SECRET: SECRET,
        HUBSPOT_ACCESS_TOKEN: 'pat-private', HUBSPOT_PORTAL_ID: String(PORTAL),
        ...fakes.env(),
      });
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await service?.stop();
      await fakes?.close();
    });
    beforeEach(async () => {
      await service.running.store.db.deleteFrom('accounting_connections').execute();
      fakes.reset();
      context = await browser.newContext();
      context.setDefaultTimeout(15_000);
      page = await context.newPage();
      cspViolations = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
    });
    afterEach(async () => {
      await context.close();
      expect(cspViolations).toEqual([]);
    });

    /** What the settings page in HubSpot does: a signed request for a link. */
    const connectLink = async (): Promise<string> => {
      const path = `/api/v1/connect/link?${cardQuery({}, { portalId: PORTAL, userEmail: 'controller@acme.example' })}`;
      const timestamp = Date.now();
      const body = '{}';
      const res = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-HubSpot-Signature-v3': sdkSignV3({ method: 'POST', url: `${service.url}${path}`, body, timestamp, secret: SECRET }),
          'X-HubSpot-Request-Timestamp': String(timestamp),
        },
        body,
      });
      expect(res.status).toBe(200);
      return ConnectLinkResponseSchema.parse(await res.json()).url;
    };

    /** Waits until the page's title heading reads `text`. */
    const heading = async (text: string): Promise<void> => {
      await page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
    };
    /** Waits until the text is on the page. */
    const see = async (text: string | RegExp, on: Page = page): Promise<void> => {
      await on.getByText(text).first().waitFor();
    };
    const section = (source: string) => page.locator(`#source-${source}`);
    const statusOf = (source: string): Promise<string> => section(source).locator('.status').innerText();
    const backToConnections = async (): Promise<void> => {
      await page.getByRole('link', { name: 'Back to accounting connections' }).click();
      await page.waitForURL(`${service.url}/connect`);
      await heading('Accounting connections');
    };

    const openConnectPage = async (): Promise<void> => {
      const response = await page.goto(await connectLink());
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(`${service.url}/connect`);
      await heading('Accounting connections');
    };

    const clickConnect = async (name: 'Xero' | 'QuickBooks', fakeAuthorize: string): Promise<void> => {
      await page.getByRole('button', { name: `Connect ${name}` }).click();
      await page.waitForURL((url) => url.href.startsWith(fakeAuthorize));
      await see('ARBridge wants to read your accounting data.');
    };

    it('lists the three sources, connects Xero through its consent page, and shows the organisation', async () => {
      await openConnectPage();
      expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual(['QuickBooks', 'Xero', 'Stripe']);
      // The page's own style applies under its Content-Security-Policy.
      type Styles = { getComputedStyle(element: unknown): { borderTopStyle: string } };
      expect(await section('xero').evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).borderTopStyle)).toBe('solid');
      for (const source of ['quickbooks', 'xero', 'stripe']) expect(await statusOf(source)).toBe('Not connected.');

      await clickConnect('Xero', `${fakes.xero.url}/identity/connect/authorize?`);
      const callback = page.waitForResponse((r) => r.url().startsWith(`${service.url}/oauth/xero/callback?`));
      await page.getByRole('button', { name: 'Allow access' }).click();
      expect((await callback).status()).toBe(200);
      await heading('Xero is connected to Demo Company (NZ)');
      await see(`Xero is connected to Demo Company (NZ) for HubSpot portal ${PORTAL}.`);

      await backToConnections();
      expect(await statusOf('xero')).toMatch(/^Connected to Demo Company \(NZ\) since \d{4}-\d\d-\d\d \d\d:\d\d UTC by controller@acme\.example\.$/);
      expect(await section('xero').getByRole('button', { name: 'Reconnect Xero' }).count()).toBe(1);
      expect(await statusOf('quickbooks')).toBe('Not connected.');
      // The nonce cookie was spent by the callback; the session cookie stays, out of scripts' reach.
      const cookies = await context.cookies();
      expect(cookies.map((c) => c.name)).toEqual(['arbridge_connect_session']);
      expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/connect', secure: false });
    });

    it('shows the error page when the user cancels on Xero\'s consent page, and stores nothing', async () => {
      await openConnectPage();
      await clickConnect('Xero', `${fakes.xero.url}/identity/connect/authorize?`);
      const callback = page.waitForResponse((r) => r.url().startsWith(`${service.url}/oauth/xero/callback?`));
      await page.getByRole('button', { name: 'Cancel' }).click();
      expect((await callback).status()).toBe(400);
      await heading('Xero was not connected');
      await see('Access was not granted (Xero said: access_denied).');
      await see('Nothing was stored.');
      await backToConnections();
      expect(await statusOf('xero')).toBe('Not connected.');
      expect(fakes.xero.count('/connect/token')).toBe(0);
    });

    it('refuses a callback opened in another browser: the state is bound to the browser that started', async () => {
      await openConnectPage();
      await clickConnect('Xero', `${fakes.xero.url}/identity/connect/authorize?`);
      const callbackUrl = fakes.xero.consent(page.url(), { allow: true });
      const other = await browser.newContext();
      try {
        const otherPage = await other.newPage();
        const response = await otherPage.goto(callbackUrl);
        expect(response?.status()).toBe(400);
        await otherPage.getByRole('heading', { level: 1, name: 'Xero was not connected' }).waitFor();
        await see('This browser did not start this connection', otherPage);
      } finally {
        await other.close();
      }
      expect(fakes.xero.count('/connect/token')).toBe(0);
    });

    it('connects QuickBooks through its consent page', async () => {
      await openConnectPage();
      await clickConnect('QuickBooks', `${fakes.quickbooks.url}/connect/oauth2?`);
      await page.getByRole('button', { name: 'Allow access' }).click();
      await heading('QuickBooks is connected to Craig\'s Design and Landscaping Services');
      await backToConnections();
      expect(await statusOf('quickbooks')).toContain('Connected to Craig\'s Design and Landscaping Services since');
    });

    it('connects Stripe with a pasted key, refusing a wrong one first', async () => {
      await openConnectPage();
      const keyField = section('stripe').getByLabel('API key');
      expect(await keyField.getAttribute('type')).toBe('password');
      await keyField.fill('rk_live_51HqLyjWDarjtT1zdNotAKey00');
      const refused = page.waitForResponse((r) => r.url() === `${service.url}/connect/stripe`);
      await section('stripe').getByRole('button', { name: 'Connect Stripe' }).click();
      expect((await refused).status()).toBe(400);
      await heading('Stripe was not connected');
      await see(/Stripe does not accept this key: Invalid API Key provided: rk_live_\*+ey00\./);
      await backToConnections();

      await section('stripe').getByLabel('API key').fill(STRIPE_KEY);
      await section('stripe').getByRole('button', { name: 'Connect Stripe' }).click();
      await heading('Stripe is connected to Acme Inc');
      await see(`Stripe is connected to Acme Inc (acct_1Nv0FGQ9RKHgCVdK) for HubSpot portal ${PORTAL}.`);
      expect(await page.content()).not.toContain(STRIPE_KEY);
      await backToConnections();
      expect(await statusOf('stripe')).toContain('Connected to Acme Inc since');
    });

    it('disconnects a source and shows it as not connected', async () => {
      await openConnectPage();
      await clickConnect('Xero', `${fakes.xero.url}/identity/connect/authorize?`);
      await page.getByRole('button', { name: 'Allow access' }).click();
      await heading('Xero is connected to Demo Company (NZ)');
      await backToConnections();
      await section('xero').getByRole('button', { name: 'Disconnect Xero' }).click();
      await heading('Xero is disconnected');
      await see('The access Xero gave ARBridge is revoked.');
      expect(fakes.xero.revokedRefreshTokens()).toHaveLength(1);
      await backToConnections();
      expect(await statusOf('xero')).toBe('Not connected.');
      expect(await section('xero').getByRole('button', { name: 'Connect Xero' }).count()).toBe(1);
      expect(await section('xero').getByRole('button', { name: 'Disconnect Xero' }).count()).toBe(0);
    });

    it('sends a browser without a session back to HubSpot', async () => {
      const response = await page.goto(`${service.url}/connect`);
      expect(response?.status()).toBe(401);
      await heading('Open this page from HubSpot');
      await see('It opens from the app\'s settings in HubSpot');
      const invalid = await page.goto(`${service.url}/connect?token=not-a-token`);
      expect(invalid?.status()).toBe(401);
      await see('This link is not valid.');
    });
  });
});
