export { CompanyCard, COMPANY_LINK_METHOD_LABELS } from './CompanyCard.tsx';
export { DealCard } from './DealCard.tsx';
export { SettingsPage } from './SettingsPage.tsx';
export { apiBaseUrl, apiUrl, callCardApi, CardApiError, newIdempotencyKey, resetApiBaseUrl, setApiBaseUrl } from './api.ts';
export { formatDate, formatDays, formatMoney, formatRate } from './format.ts';
export { SERVICE_BASE_URL } from './service-url.ts';
