import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { checkProject, main, type Problem } from '../../scripts/hs-check';
import { HUBSPOT_DEFAULT_SCOPES } from '../../src/config';
import { copyProject, editJson, removeTemps, ROOT, tempDir, type Json } from './project-copy';

afterAll(removeTemps);

const APP = 'app-config/app/app-hsmeta.json';
const COMPANY_CARD = 'app-config/app/cards/company-card-hsmeta.json';
const DEAL_CARD = 'app-config/app/cards/deal-card-hsmeta.json';
const CARDS_PKG = 'app-config/app/cards/package.json';
const WEBHOOKS = 'app-config/app/webhooks/webhooks-hsmeta.json';

describe('hs:check', () => {
  test('the project in this repository is valid', () => {
    expect(checkProject(ROOT)).toEqual([]);
    const lines: string[] = [];
    expect(main([ROOT], (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([`hs:check: ${ROOT} is a valid HubSpot project`]);
  });

  test('the app asks for exactly the scopes the service requests at install (HUBSPOT_DEFAULT_SCOPES)', () => {
    const app = JSON.parse(fs.readFileSync(path.join(ROOT, APP), 'utf8')) as Json;
    const required = app.config.auth.requiredScopes as string[];
    expect(new Set(required).size).toBe(required.length);
    expect([...required].sort()).toEqual([...HUBSPOT_DEFAULT_SCOPES].sort());
  });

  const cases: Array<[string, (dir: string) => void, Omit<Problem, 'message'> & { message: RegExp }]> = [
    ['an unknown platform version', (d) => editJson(d, 'hsproject.json', (j) => { j.platformVersion = '2024.1'; }),
      { file: 'hsproject.json', path: '$.platformVersion', message: /2026\.03/ }],
    ['a srcDir that does not exist', (d) => editJson(d, 'hsproject.json', (j) => { j.srcDir = 'src'; }),
      { file: 'hsproject.json', path: '$.srcDir', message: /src does not exist/ }],
    ['a srcDir outside the project', (d) => editJson(d, 'hsproject.json', (j) => { j.srcDir = '../elsewhere'; }),
      { file: 'hsproject.json', path: '$.srcDir', message: /outside the project/ }],
    ['a file that is not JSON', (d) => fs.writeFileSync(path.join(d, APP), '{ "uid": "arbridge_app", '),
      { file: APP, path: '$', message: /not valid JSON/ }],
    ['a permitted fetch URL on localhost', (d) => editJson(d, APP, (j) => { j.config.permittedUrls.fetch.push('https://localhost:3000'); }),
      { file: APP, path: '$.config.permittedUrls.fetch[1]', message: /https URL on a public host/ }],
    ['a permitted fetch URL over http', (d) => editJson(d, APP, (j) => { j.config.permittedUrls.fetch[0] = 'http://arbridge.example.com'; }),
      { file: APP, path: '$.config.permittedUrls.fetch[0]', message: /https URL/ }],
    ['cards calling a URL the app does not permit', (d) => editJson(d, APP, (j) => { j.config.permittedUrls.fetch = ['https://other.example.com']; }),
      { file: APP, path: '$.config.permittedUrls.fetch', message: /call https:\/\/arbridge\.example\.com, which no permitted fetch URL covers/ }],
    ['a missing read scope for a card object', (d) => editJson(d, APP, (j) => { j.config.auth.requiredScopes = j.config.auth.requiredScopes.filter((s: string) => s !== 'crm.objects.deals.read'); }),
      { file: APP, path: '$.config.auth.requiredScopes', message: /deal-card-hsmeta\.json places a card on deals, which needs the scope crm\.objects\.deals\.read/ }],
    ['an unknown distribution', (d) => editJson(d, APP, (j) => { j.config.distribution = 'public'; }),
      { file: APP, path: '$.config.distribution', message: /private|marketplace/ }],
    ['an OAuth app without redirect URLs', (d) => editJson(d, APP, (j) => { j.config.auth.redirectUrls = []; }),
      { file: APP, path: '$.config.auth.redirectUrls', message: /at least one redirect URL/ }],
    ['a redirect URL on another host', (d) => editJson(d, APP, (j) => { j.config.auth.redirectUrls = ['https://elsewhere.example.org/cb']; }),
      { file: APP, path: '$.config.auth.redirectUrls[0]', message: /not on the service the cards call/ }],
    ['a uid with a space', (d) => editJson(d, COMPANY_CARD, (j) => { j.uid = 'company card'; }),
      { file: COMPANY_CARD, path: '$.uid', message: /letters, digits/ }],
    ['a duplicate uid', (d) => editJson(d, DEAL_CARD, (j) => { j.uid = 'arbridge_company_card'; }),
      { file: DEAL_CARD, path: '$.uid', message: /also used by app-config\/app\/cards\/company-card-hsmeta\.json/ }],
    ['a misspelt card key', (d) => editJson(d, COMPANY_CARD, (j) => { j.config.objectType = j.config.objectTypes; delete j.config.objectTypes; }),
      { file: COMPANY_CARD, path: '$.config', message: /objectType/ }],
    ['an unknown card location', (d) => editJson(d, COMPANY_CARD, (j) => { j.config.location = 'crm.record.header'; }),
      { file: COMPANY_CARD, path: '$.config.location', message: /crm\.record\.tab/ }],
    ['an entry point that does not exist', (d) => fs.rmSync(path.join(d, 'app-config/app/cards/DealCard.tsx')),
      { file: DEAL_CARD, path: '$.config.entrypoint', message: /\/app\/cards\/DealCard\.tsx does not exist/ }],
    ['an entry point outside the card folder', (d) => editJson(d, DEAL_CARD, (j) => { j.config.entrypoint = '/app/settings/SettingsPage.tsx'; }),
      { file: DEAL_CARD, path: '$.config.entrypoint', message: /must sit beside its -hsmeta\.json, in \/app\/cards\// }],
    ['a component of the wrong type for its folder', (d) => editJson(d, DEAL_CARD, (j) => { j.type = 'settings'; }),
      { file: DEAL_CARD, path: '$.type', message: /must have type "card"/ }],
    ['an -hsmeta.json in a nested folder', (d) => {
      fs.mkdirSync(path.join(d, 'app-config/app/cards/more'));
      fs.copyFileSync(path.join(d, DEAL_CARD), path.join(d, 'app-config/app/cards/more/x-hsmeta.json'));
    }, { file: 'app-config/app/cards/more/x-hsmeta.json', path: '$', message: /root of a component folder/ }],
    ['a second settings page', (d) => {
      fs.writeFileSync(path.join(d, 'app-config/app/settings/other-hsmeta.json'), JSON.stringify({ uid: 'other_settings', type: 'settings', config: { entrypoint: '/app/settings/SettingsPage.tsx' } }));
    }, { file: 'app-config/app/settings/settings-hsmeta.json', path: '$', message: /only one settings component/ }],
    ['a card package with an unpinned react', (d) => editJson(d, CARDS_PKG, (j) => { j.dependencies.react = '^18.2.0'; }),
      { file: CARDS_PKG, path: '$.dependencies.react', message: /pinned to 18\.3\.1/ }],
    ['a card package that is not an ES module', (d) => editJson(d, CARDS_PKG, (j) => { delete j.type; }),
      { file: CARDS_PKG, path: '$.type', message: /module/ }],
    ['a card package without package.json', (d) => fs.rmSync(path.join(d, CARDS_PKG)),
      { file: CARDS_PKG, path: '$', message: /needs one package\.json/ }],
    ['a file: dependency that leads nowhere', (d) => editJson(d, CARDS_PKG, (j) => { j.dependencies['@arbridge/extensions'] = 'file:../../../nowhere'; }),
      { file: CARDS_PKG, path: '$.dependencies["@arbridge/extensions"]', message: /does not lead to a package/ }],
    ['a webhook target that is not https', (d) => editJson(d, WEBHOOKS, (j) => { j.config.settings.targetUrl = 'http://arbridge.example.com/webhooks/hubspot'; }),
      { file: WEBHOOKS, path: '$.config.settings.targetUrl', message: /https URL/ }],
    ['a webhook target on another service', (d) => editJson(d, WEBHOOKS, (j) => { j.config.settings.targetUrl = 'https://hooks.example.net/in'; }),
      { file: WEBHOOKS, path: '$.config.settings.targetUrl', message: /not on the service the cards call/ }],
    ['a propertyChange subscription without its property', (d) => editJson(d, WEBHOOKS, (j) => { delete j.config.subscriptions.crmObjects[1].propertyName; }),
      { file: WEBHOOKS, path: '$.config.subscriptions.crmObjects[1].propertyName', message: /string/ }],
    ['a subscription to an unknown event', (d) => editJson(d, WEBHOOKS, (j) => { j.config.subscriptions.crmObjects[0].subscriptionType = 'object.created'; }),
      { file: WEBHOOKS, path: '$.config.subscriptions.crmObjects[0].subscriptionType', message: /object\.creation/ }],
    ['a repeated subscription', (d) => editJson(d, WEBHOOKS, (j) => { j.config.subscriptions.crmObjects.push({ ...j.config.subscriptions.crmObjects[2] }); }),
      { file: WEBHOOKS, path: '$.config.subscriptions.crmObjects[6]', message: /repeats subscription 2/ }],
    ['both subscription forms for one object', (d) => editJson(d, WEBHOOKS, (j) => { j.config.subscriptions.legacyCrmObjects = [{ subscriptionType: 'deal.propertyChange', propertyName: 'closedate', active: true }]; }),
      { file: WEBHOOKS, path: '$.config.subscriptions.legacyCrmObjects[0]', message: /use one form per object type/ }],
    ['a legacy propertyChange without its property', (d) => editJson(d, WEBHOOKS, (j) => { j.config.subscriptions.legacyCrmObjects = [{ subscriptionType: 'contact.propertyChange', active: true }]; }),
      { file: WEBHOOKS, path: '$.config.subscriptions.legacyCrmObjects[0].propertyName', message: /names its property/ }],
    ['a service URL module without a literal', (d) => fs.writeFileSync(path.join(d, 'extensions/service-url.ts'), 'export const SERVICE_BASE_URL = process.env.URL;\n'),
      { file: CARDS_PKG, path: '$.dependencies["@arbridge/extensions"]', message: /SERVICE_BASE_URL as a string literal/ }],
  ];

  test.each(cases)('%s is named with its file and JSON path', (_name, breakIt, expected) => {
    const dir = copyProject();
    expect(checkProject(dir)).toEqual([]);
    breakIt(dir);
    const problems = checkProject(dir);
    expect(problems).toContainEqual({ file: expected.file, path: expected.path, message: expect.stringMatching(expected.message) });
  });

  test('main prints "file: path: message" per problem and returns 1', () => {
    const dir = copyProject();
    editJson(dir, COMPANY_CARD, (j) => { j.config.objectTypes = ['invoices']; });
    const lines: string[] = [];
    expect(main([dir], (l) => lines.push(l))).toBe(1);
    expect(lines[0]).toMatch(/^app-config\/app\/cards\/company-card-hsmeta\.json: \$\.config\.objectTypes\[0\]: /);
    expect(lines.at(-1)).toBe(`hs:check: ${lines.length - 1} problem(s)`);
  });

  test('a directory without hsproject.json is not a project', () => {
    const dir = tempDir('arbridge-hs-empty-');
    expect(checkProject(dir)).toEqual([{ file: 'hsproject.json', path: '$', message: 'is missing: this is not a HubSpot project directory' }]);
  });
});
