import { jest } from '@jest/globals';
import { hubspot } from '@hubspot/ui-extensions';
import { hubspotProxy, type ProxiedRequest, type ProxyContext, type Service } from './service-harness.tsx';

// The real ARBridge service for the end-to-end card tests (see service-harness.tsx), with HubSpot's proxy installed
// as a jest spy on `hubspot.fetch`.

export { APP_ID, PUBLIC_URL, startService, type ProxiedRequest, type ProxyContext, type Service } from './service-harness.tsx';

/** Replaces `hubspot.fetch` with HubSpot's proxy to `service`, signing with `clientSecret`; `requests` lists what it sent. */
export const proxyFetch = (service: Service, clientSecret: string, context: ProxyContext) => {
  const requests: ProxiedRequest[] = [];
  const spy = jest.spyOn(hubspot, 'fetch').mockImplementation(hubspotProxy(service.origin, clientSecret, context, requests));
  return { requests, spy };
};
