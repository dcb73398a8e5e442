/** The accounting systems a portal connects, as people call them. */
export const PROVIDER_NAMES = { xero: 'Xero', quickbooks: 'QuickBooks', stripe: 'Stripe' } as const;

export type ProviderName = (typeof PROVIDER_NAMES)[keyof typeof PROVIDER_NAMES];

/**
 * Why a provider did not give us a connection:
 * - `refused`: it answered and said no (a code or key it does not accept, missing permissions): asking again
 *   the same way will not help.
 * - `unreachable`: no answer, a timeout, or a server error: trying again later may.
 * - `invalid_answer`: it answered with something we cannot use (a token that does not verify, an odd body).
 * Messages are for the person connecting; they never hold a token or key.
 */
export class ProviderError extends Error {
  constructor(readonly provider: ProviderName, readonly kind: 'refused' | 'unreachable' | 'invalid_answer', message: string) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** The first line of an error's message, for logs and pages (stack-free, bounded). */
export const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split('\n')[0]?.slice(0, 300) ?? '';
