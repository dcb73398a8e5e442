import { z } from 'zod';

// The connect-link contract: the settings page asks the service (signed, through hubspot.fetch) for a link
// to the service's own accounting connect page, and opens it in a new tab.

/** POST, signed by HubSpot; the body may be empty (`{}`). */
export const CONNECT_LINK_PATH = '/api/v1/connect/link';

/**
 * `url` opens the connect page for the portal that asked (`<public URL>/connect?token=…`); it is good until
 * `expires_at` (ISO date-time, 10 minutes after it was issued) and gives whoever holds it the portal's
 * connect page for an hour, so it is opened at once and never shown or stored.
 */
export const ConnectLinkResponseSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  expires_at: z.iso.datetime(),
});

export type ConnectLinkResponse = z.infer<typeof ConnectLinkResponseSchema>;
