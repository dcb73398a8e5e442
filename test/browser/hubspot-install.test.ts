import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startFakeHubSpot, type FakeHubSpot } from '../fakes/hubspot';
import { FakeHttpServer, html, redirect, withQuery } from '../fakes/accounting-oauth/http';
import { describeEachStore } from '../helpers/stores';
import { describeWithChromium, launchChromium, startTestService, type TestService } from './helpers';

// The HubSpot install pages the service serves (install → HubSpot's consent → callback), in headless Chromium
// against the real service on loopback, the fake HubSpot API, and a consent page standing in for HubSpot's.

const PORTAL = 660_001;
const CLIENT_ID = 'hubspot-client';
const CLIENT_SECRET = 'hubspot-secret';

/**
 * HubSpot's consent page (app.hubspot.com/oauth/authorize): checks the client id, shows a "Connect app"
 * button, and sends the browser back to the redirect URI with a code the fake HubSpot API exchanges.
 */
const startConsentPage = async (hubspot: FakeHubSpot): Promise<FakeHttpServer> => {
  const server = new FakeHttpServer();
  server.route('GET', /^\/oauth\/authorize$/, 'authorize', (req) => {
    if (req.query.get('client_id') !== CLIENT_ID || !req.query.get('redirect_uri') || !req.query.get('scope')) {
      return html(400, '<!doctype html><title>HubSpot</title><h1>Authorization failed</h1>');
    }
    const hidden = ['redirect_uri', 'state'].map((name) =>
      `<input type="hidden" name="${name}" value="${(req.query.get(name) ?? '').replace(/"/g, '&quot;')}">`).join('');
    return html(200, `<!doctype html><html lang="en"><head><title>HubSpot: choose an account</title></head><body>
<h1>Choose an account</h1><p>ARBridge is requesting access to portal ${PORTAL}.</p>
<form method="get" action="/oauth/authorize/grant">${hidden}<button type="submit">Connect app</button></form></body></html>`);
  });
  server.route('GET', /^\/oauth\/authorize\/grant$/, 'grant', (req) => redirect(withQuery(req.query.get('redirect_uri') as string, {
    code: hubspot.issueAuthorizationCode(PORTAL), state: req.query.get('state') ?? '',
  })));
  await server.listen();
  return server;
};

describeWithChromium('HubSpot install pages in Chromium', () => {
  describeEachStore('HubSpot install in a browser', (backend) => {
    let browser: Browser;
    let hubspot: FakeHubSpot;
    let consent: FakeHttpServer;
    let service: TestService;
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      hubspot = await startFakeHubSpot({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, rateLimit: null });
      hubspot.addPortal(PORTAL, { hubDomain: 'acme.hubspot.com' });
      consent = await startConsentPage(hubspot);
      service = await startTestService(backend, {
        HUBSPOT_CLIENT_ID: CLIENT_ID, HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        HUBSPOT_API_BASE_URL: hubspot.url, HUBSPOT_AUTHORIZE_URL: `${consent.url}/oauth/authorize`,
      });
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await service?.stop();
      await consent?.close();
      await hubspot?.close();
    });
    beforeEach(async () => {
      context = await browser.newContext();
      context.setDefaultTimeout(15_000);
      page = await context.newPage();
    });
    afterEach(async () => {
      await context.close();
    });

    const heading = async (on: Page, text: string): Promise<void> => {
      await on.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
    };

    /** Opens the install link and arrives on HubSpot's consent page. */
    const startInstall = async (): Promise<void> => {
      await page.goto(`${service.url}/oauth/hubspot/install`);
      await page.waitForURL((url) => url.href.startsWith(`${consent.url}/oauth/authorize?`));
      await heading(page, 'Choose an account');
    };

    it('installs: consent, then the callback page names the portal', async () => {
      await startInstall();
      const callback = page.waitForResponse((r) => r.url().startsWith(`${service.url}/oauth/hubspot/callback?`));
      await page.getByRole('button', { name: 'Connect app' }).click();
      expect((await callback).status()).toBe(200);
      await heading(page, `ARBridge is installed in portal ${PORTAL}`);
      const text = await page.locator('body').innerText();
      expect(text).toContain(`ARBridge is installed in portal ${PORTAL} (acme.hubspot.com).`);
      expect(text).toMatch(/Created \d+ and updated 0 ARBridge properties/);
      expect(text).toContain('You can close this page and return to HubSpot.');
      expect(await context.cookies()).toEqual([]);
      const install = await service.running.store.db.selectFrom('hubspot_installs').select('portal_id').where('portal_id', '=', PORTAL).executeTakeFirst();
      expect(install?.portal_id).toBe(PORTAL);
    });

    it('refuses a bad state, and a callback carried to another browser, with a page saying why', async () => {
      const exchanges = (): number => hubspot.requests.filter((r) => r.path === '/oauth/v1/token').length;
      const before = exchanges();
      await startInstall();
      const state = new URL(page.url()).searchParams.get('state') as string;
      const tampered = await page.goto(`${service.url}/oauth/hubspot/callback?code=any&state=${encodeURIComponent(`${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`)}`);
      expect(tampered?.status()).toBe(400);
      await heading(page, 'ARBridge was not installed');
      expect(await page.locator('body').innerText()).toContain('This install link is not valid (its state does not check out).');
      expect(await page.getByRole('link', { name: 'start the install again' }).getAttribute('href')).toBe('/oauth/hubspot/install');

      await startInstall();
      const fresh = new URL(page.url()).searchParams.get('state') as string;
      const other = await browser.newContext();
      try {
        const otherPage = await other.newPage();
        const response = await otherPage.goto(`${service.url}/oauth/hubspot/callback?code=${hubspot.issueAuthorizationCode(PORTAL)}&state=${encodeURIComponent(fresh)}`);
        expect(response?.status()).toBe(400);
        await heading(otherPage, 'ARBridge was not installed');
        expect(await otherPage.locator('body').innerText()).toContain('This browser did not start this install, or already used it');
      } finally {
        await other.close();
      }
      expect(exchanges()).toBe(before);
    });
  });
});
