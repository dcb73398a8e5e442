import { Alert, Button, Flex, Input, Select, Text } from '@hubspot/ui-extensions';
import { useState } from 'react';
import { CreditLimitSchema, type CreditLimit as CreditLimitData } from '../card-api.ts';
import { formatDate, formatMoney } from '../format.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

/** One sentence on the limit in force and where it comes from. */
const describe = (limit: CreditLimitData, locale: string | undefined): string => {
  if (limit.limit === null || limit.currency === null) return 'No credit limit is known for this customer.';
  const amount = formatMoney(limit.limit, limit.currency, locale);
  if (limit.origin === 'source') return `Credit limit ${amount}, from the accounting system.`;
  const who = limit.set_by ? ` by ${limit.set_by}` : '';
  const when = limit.set_at ? ` on ${formatDate(limit.set_at.slice(0, 10), locale)}` : '';
  const source = limit.source_limit !== null && limit.source_currency !== null
    ? ` The accounting system's limit is ${formatMoney(limit.source_limit, limit.source_currency, locale)}.` : '';
  return `Credit limit ${amount}, set${who}${when}.${source}`;
};

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'NZD'];

/**
 * The customer's credit limit on the company card, and a form to set one by hand (it wins over the accounting
 * system's) or to remove the hand-set one. Each save is one action with its own idempotency key.
 */
export const CreditLimit = ({ companyId, limit, defaultCurrency, locale, onSaved }: {
  companyId: string; limit: CreditLimitData; defaultCurrency: string | null; locale: string | undefined; onSaved: () => void;
}) => {
  const [editing, setEditing] = useState(false);
  const [amount, setAmount] = useState(limit.limit ?? '');
  const [currency, setCurrency] = useState(limit.currency ?? defaultCurrency ?? 'USD');
  const save = useIdempotentPost('/api/v1/cards/company/credit-limit', CreditLimitSchema, () => {
    setEditing(false);
    onSaved();
  });
  const fieldErrors = save.state.status === 'failed' ? save.state.error.fields : {};
  const problem = (field: string) => (fieldErrors[field]?.length ? { error: true, validationMessage: fieldErrors[field]?.join('; ') } : {});
  const currencies = CURRENCIES.includes(currency) ? CURRENCIES : [currency, ...CURRENCIES];

  return (
    <Flex direction="column" gap="sm" testId="credit-limit">
      <Text testId="credit-limit-text">{describe(limit, locale)}</Text>
      {!editing && (
        <Flex direction="row" gap="sm">
          <Button testId="edit-credit-limit" onClick={() => setEditing(true)}>{limit.origin === 'manual' ? 'Change the limit' : 'Set a limit'}</Button>
          {limit.origin === 'manual' && (
            <Button testId="clear-credit-limit" variant="secondary" disabled={save.state.status === 'sending'}
              onClick={() => void save.start({ objectId: companyId, amount: null })}>
              {limit.source_limit === null ? 'Remove the limit' : 'Use the accounting system\'s limit'}
            </Button>
          )}
        </Flex>
      )}
      {editing && (
        <Flex direction="row" gap="sm" testId="credit-limit-form">
          <Input name="credit-limit-amount" label="Credit limit" required value={amount} onChange={setAmount} placeholder="25000" {...problem('amount')} />
          <Select name="credit-limit-currency" label="Currency" required value={currency} onChange={(v) => setCurrency(String(v))}
            options={currencies.map((c) => ({ label: c, value: c }))} {...problem('currency')} />
          <Button testId="save-credit-limit" variant="primary" disabled={amount.trim() === '' || save.state.status === 'sending'}
            onClick={() => void save.start({ objectId: companyId, amount: amount.trim(), currency })}>Save</Button>
          <Button testId="cancel-credit-limit" variant="secondary" onClick={() => setEditing(false)}>Cancel</Button>
        </Flex>
      )}
      {save.state.status === 'failed' && (
        <Alert title="The credit limit was not saved" variant="danger">
          <Text>{save.state.error.message}</Text>
          {Object.keys(fieldErrors).length === 0 && <Button testId="retry-credit-limit" onClick={() => void save.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};
