import { z } from 'zod';

// Zod schemas of the HubSpot developer-platform project files (platform 2025.2 / 2026.03): hsproject.json, the
// *-hsmeta.json component files ARBridge uses (app, card, settings, webhooks) and the feature package.json. HubSpot
// validates uploads against JSON schemas it serves per platform version (project-parsing-lib `schemas.js` fetches
// them); these are written from its templates (HubSpot/hubspot-project-components 2026.03/components/**), the
// parsing library's own rules (uid, top-level fields, component directories) and the developer docs, so a broken
// file is caught before an upload. Objects are strict: an unknown key is more often a typo than a new field.

/** Platform versions the parsing library accepts that are not deprecated (`src/lib/constants.js`). */
export const PLATFORM_VERSIONS = ['2025.2', '2026.03', '2026.03-beta', '2026.09-beta'] as const;

/** project-parsing-lib `uid.js`: 1–64 characters of letters, digits, `_`, `-` and `.`. */
export const UidSchema = z.string().min(1, 'a uid is required').max(64, 'a uid has at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only');

const LOCAL_HOSTS = /^(localhost|127(\.\d{1,3}){3}|0\.0\.0\.0|\[::1?\])$/i;

const parseUrl = (text: string): URL | null => {
  try {
    return new URL(text);
  } catch {
    return null;
  }
};

/** True for an https URL whose host is not a loopback name or address. */
export const isPublicHttpsUrl = (text: string): boolean => {
  const url = parseUrl(text);
  return url !== null && url.protocol === 'https:' && !LOCAL_HOSTS.test(url.hostname);
};

/** An https URL on a public host: what `hubspot.fetch`, iframes, images and webhook targets accept. */
export const PublicHttpsUrlSchema = z.string().refine(isPublicHttpsUrl, 'must be an https URL on a public host (not localhost)');

/** A fetch prefix: a public https URL without query or fragment. */
export const PermittedFetchUrlSchema = PublicHttpsUrlSchema.refine((text) => {
  const url = parseUrl(text);
  return url !== null && url.search === '' && url.hash === '';
}, 'must not carry a query or fragment');

/** OAuth redirect URLs: https, or http on localhost for local development (as the templates use). */
export const RedirectUrlSchema = z.string().refine((text) => {
  const url = parseUrl(text);
  return url !== null && (url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.test(url.hostname)));
}, 'must be an https URL (http only on localhost)');

export const ScopeSchema = z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'a scope name such as crm.objects.deals.read');

export const HsProjectSchema = z.object({
  name: z.string().min(1, 'the project name is required'),
  srcDir: z.string().min(1, 'srcDir is required'),
  platformVersion: z.enum(PLATFORM_VERSIONS),
});
export type HsProject = z.infer<typeof HsProjectSchema>;

const scopes = z.array(ScopeSchema);

const AuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('static'),
    requiredScopes: scopes.min(1),
    optionalScopes: scopes.optional(),
    conditionallyRequiredScopes: scopes.optional(),
  }),
  z.strictObject({
    type: z.literal('oauth'),
    redirectUrls: z.array(RedirectUrlSchema).min(1, 'an OAuth app needs at least one redirect URL'),
    requiredScopes: scopes.min(1),
    optionalScopes: scopes.optional(),
    conditionallyRequiredScopes: scopes.optional(),
  }),
]);

export const AppConfigSchema = z.strictObject({
  name: z.string().min(1).max(200),
  description: z.string().min(1).max(8192),
  distribution: z.enum(['private', 'marketplace']),
  auth: AuthSchema,
  permittedUrls: z.strictObject({
    fetch: z.array(PermittedFetchUrlSchema).optional(),
    iframe: z.array(PublicHttpsUrlSchema).optional(),
    img: z.array(PublicHttpsUrlSchema).optional(),
  }),
  support: z.strictObject({
    supportEmail: z.email(),
    documentationUrl: z.url(),
    supportUrl: z.url(),
    supportPhone: z.string().min(1).optional(),
  }),
}).superRefine((config, ctx) => {
  if (config.distribution === 'marketplace' && config.auth.type !== 'oauth') {
    ctx.addIssue({ code: 'custom', path: ['auth', 'type'], message: 'a marketplace app must use oauth' });
  }
  if (!config.auth.requiredScopes.includes('oauth')) {
    ctx.addIssue({ code: 'custom', path: ['auth', 'requiredScopes'], message: 'must include "oauth"' });
  }
});

export const CARD_LOCATIONS = ['crm.record.tab', 'crm.record.sidebar', 'crm.preview', 'helpdesk.sidebar'] as const;

/** The CRM objects a card may be placed on, with the scope that reads each. */
export const CARD_OBJECT_READ_SCOPES = {
  contacts: 'crm.objects.contacts.read',
  companies: 'crm.objects.companies.read',
  deals: 'crm.objects.deals.read',
  tickets: 'tickets',
} as const;
export type CardObjectType = keyof typeof CARD_OBJECT_READ_SCOPES;

/** A path relative to srcDir, starting with `/`, of a .tsx/.jsx file. */
const EntrypointSchema = z.string().regex(/^\/[^\s]+\.(tsx|jsx)$/, 'a path from srcDir such as /app/cards/MyCard.tsx');

export const CardConfigSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1).optional(),
  location: z.enum(CARD_LOCATIONS),
  entrypoint: EntrypointSchema,
  objectTypes: z.array(z.enum(Object.keys(CARD_OBJECT_READ_SCOPES) as [CardObjectType, ...CardObjectType[]])).min(1),
  previewImage: z.strictObject({
    file: z.string().regex(/\.(png|jpe?g|gif)$/i, 'a png, jpeg or gif file'),
    altText: z.string().min(1),
  }).optional(),
});

export const SettingsConfigSchema = z.strictObject({ entrypoint: EntrypointSchema });

/** Object types of the generic (`crmObjects`) webhook form, singular as the template writes them. */
export const WEBHOOK_OBJECT_TYPES = ['contact', 'company', 'deal', 'ticket', 'product', 'line_item'] as const;
const WEBHOOK_EVENTS_WITHOUT_PROPERTY = ['creation', 'deletion', 'merge', 'restore', 'associationChange'] as const;

const CrmObjectSubscriptionSchema = z.discriminatedUnion('subscriptionType', [
  z.strictObject({
    subscriptionType: z.literal('object.propertyChange'),
    objectType: z.enum(WEBHOOK_OBJECT_TYPES),
    propertyName: z.string().min(1),
    active: z.boolean(),
  }),
  z.strictObject({
    subscriptionType: z.enum(['object.creation', 'object.deletion', 'object.merge', 'object.restore', 'object.associationChange']),
    objectType: z.enum(WEBHOOK_OBJECT_TYPES),
    active: z.boolean(),
  }),
]);

const legacyType = new RegExp(`^(${WEBHOOK_OBJECT_TYPES.join('|')})\\.(${WEBHOOK_EVENTS_WITHOUT_PROPERTY.join('|')}|propertyChange)$`);
const LegacyCrmObjectSubscriptionSchema = z.strictObject({
  subscriptionType: z.string().regex(legacyType, '<object>.<event>, e.g. deal.propertyChange'),
  propertyName: z.string().min(1).optional(),
  active: z.boolean(),
}).superRefine((sub, ctx) => {
  const wantsProperty = sub.subscriptionType.endsWith('.propertyChange');
  if (wantsProperty && sub.propertyName === undefined) {
    ctx.addIssue({ code: 'custom', path: ['propertyName'], message: 'a propertyChange subscription names its property' });
  }
  if (!wantsProperty && sub.propertyName !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['propertyName'], message: `${sub.subscriptionType} takes no propertyName` });
  }
});

export const WebhooksConfigSchema = z.strictObject({
  settings: z.strictObject({
    targetUrl: PublicHttpsUrlSchema,
    maxConcurrentRequests: z.number().int().min(1).max(100),
  }),
  subscriptions: z.strictObject({
    crmObjects: z.array(CrmObjectSubscriptionSchema).optional(),
    legacyCrmObjects: z.array(LegacyCrmObjectSubscriptionSchema).optional(),
    hubEvents: z.array(z.strictObject({ subscriptionType: z.string().regex(/^[a-z_]+\.[A-Za-z]+$/), active: z.boolean() })).optional(),
  }),
});

/** The top level of every -hsmeta.json (project-parsing-lib `ALLOWED_TOP_LEVEL_FIELDS`). */
const component = <T extends string, C extends z.ZodType>(type: T, config: C) => z.strictObject({
  uid: UidSchema,
  type: z.literal(type),
  config,
  dependencies: z.unknown().optional(),
  permissions: z.unknown().optional(),
});

export const AppComponentSchema = component('app', AppConfigSchema);
export const CardComponentSchema = component('card', CardConfigSchema);
export const SettingsComponentSchema = component('settings', SettingsConfigSchema);
/** App pages (platform 2026.03): one entry point that routes with createPageRouter; no `location`. */
export const PageComponentSchema = component('page', z.strictObject({ entrypoint: EntrypointSchema }));
export const WebhooksComponentSchema = component('webhooks', WebhooksConfigSchema);

/**
 * Component kinds by folder under srcDir: the folder decides the type (project-parsing-lib `Components`), and only
 * one app, one settings page, one app-pages component and one webhooks component may exist.
 */
export const COMPONENT_DIRS = {
  app: { type: 'app', schema: AppComponentSchema, single: true },
  'app/cards': { type: 'card', schema: CardComponentSchema, single: false },
  'app/settings': { type: 'settings', schema: SettingsComponentSchema, single: true },
  'app/pages': { type: 'page', schema: PageComponentSchema, single: true },
  'app/webhooks': { type: 'webhooks', schema: WebhooksComponentSchema, single: true },
} as const;
export type ComponentDir = keyof typeof COMPONENT_DIRS;

/** The pinned versions every UI-extension package.json (cards, settings) must use. */
export const UI_EXTENSION_PINS = { '@hubspot/ui-extensions': '0.17.0', react: '18.3.1' } as const;

export const FeaturePackageSchema = z.object({
  name: z.string().min(1),
  type: z.literal('module', 'must be "module" (the cards are ES modules)'),
  dependencies: z.object({
    '@hubspot/ui-extensions': z.literal(UI_EXTENSION_PINS['@hubspot/ui-extensions'], `must be pinned to ${UI_EXTENSION_PINS['@hubspot/ui-extensions']}`),
    react: z.literal(UI_EXTENSION_PINS.react, `must be pinned to ${UI_EXTENSION_PINS.react}`),
  }).catchall(z.string()),
});
