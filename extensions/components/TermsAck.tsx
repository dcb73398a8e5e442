import {
  Alert, Button, DateInput, DescriptionList, DescriptionListItem, Flex, Input, Link, Select, Text,
} from '@hubspot/ui-extensions';
import { useAssociations } from '@hubspot/ui-extensions/crm';
import { useState } from 'react';
import { TermsAckSchema, type TermsAck } from '../card-api.ts';
import { dateInputToIso, formatDate, isoToDateInput } from '../format.ts';
import { useIdempotentPost } from '../hooks/useIdempotentPost.ts';

/** The terms a rep picks from; "other" lets them type the terms as the contract words them. */
export const TERMS_CHOICES = [
  { value: 'Due on receipt', days: 0 },
  { value: 'Net 15', days: 15 },
  { value: 'Net 30', days: 30 },
  { value: 'Net 45', days: 45 },
  { value: 'Net 60', days: 60 },
  { value: 'Net 90', days: 90 },
] as const;
const OTHER = 'other';
const SOMEONE_ELSE = 'someone-else';

/** The acknowledgment on record: terms, who acknowledged them and when, the evidence, who recorded it. */
export const TermsOnRecord = ({ ack, locale, testId = 'terms-ack' }: { ack: TermsAck; locale: string | undefined; testId?: string }) => (
  <DescriptionList direction="row" testId={testId}>
    <DescriptionListItem label="Terms"><Text testId={`${testId}-terms`}>{ack.terms}</Text></DescriptionListItem>
    <DescriptionListItem label="Acknowledged by">
      <Text testId={`${testId}-contact`}>{ack.contact.email ? `${ack.contact.name} (${ack.contact.email})` : ack.contact.name}</Text>
    </DescriptionListItem>
    <DescriptionListItem label="On"><Text testId={`${testId}-date`}>{formatDate(ack.acknowledged_on, locale)}</Text></DescriptionListItem>
    <DescriptionListItem label="Evidence">
      {ack.evidence_url
        ? <Link testId={`${testId}-evidence`} href={{ url: ack.evidence_url, external: true }}>Open</Link>
        : <Text testId={`${testId}-evidence`}>None recorded</Text>}
    </DescriptionListItem>
    <DescriptionListItem label="Recorded by"><Text testId={`${testId}-recorded-by`}>{ack.recorded_by ?? '—'}</Text></DescriptionListItem>
  </DescriptionList>
);

type Contact = { id: string; name: string; email: string | null };

/** The deal's associated contacts (HubSpot's association hook), as the people who may have acknowledged the terms. */
const useDealContacts = (): Contact[] => {
  const { results } = useAssociations({ toObjectType: '0-1', properties: ['firstname', 'lastname', 'email'], pageLength: 50 });
  return results.map((r) => {
    const name = [r.properties.firstname, r.properties.lastname].filter((p): p is string => Boolean(p)).join(' ');
    const email = r.properties.email || null;
    return { id: String(r.toObjectId), name: name || email || `Contact ${r.toObjectId}`, email };
  });
};

/**
 * Captures the terms a customer acknowledged for this deal: the terms, which contact (one of the deal's contacts, or
 * someone else by name and email), the date, an evidence link. Saving is one action with its own idempotency key;
 * "Try again" resends it with the same key, so a retry never records twice. Fields the service refuses are marked.
 */
export const TermsForm = ({ dealId, today, onSaved }: { dealId: string; today: string; onSaved: (ack: TermsAck) => void }) => {
  const contacts = useDealContacts();
  const [choice, setChoice] = useState<string>('Net 30');
  const [otherTerms, setOtherTerms] = useState('');
  const [contactChoice, setContactChoice] = useState<string>('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [date, setDate] = useState(today);
  const [evidence, setEvidence] = useState('');
  const save = useIdempotentPost('/api/v1/cards/deal/terms', TermsAckSchema, onSaved);
  const fieldErrors = save.state.status === 'failed' ? save.state.error.fields : {};
  const problem = (field: string) => (fieldErrors[field]?.length ? { error: true, validationMessage: fieldErrors[field]?.join('; ') } : {});

  const picked = contacts.find((c) => c.id === contactChoice);
  const contact = picked ?? (contactChoice === SOMEONE_ELSE || contacts.length === 0 ? { id: null, name: name.trim(), email: email.trim() || null } : null);
  const known = TERMS_CHOICES.find((t) => t.value === choice);
  const terms = known ? known.value : otherTerms.trim();
  const ready = terms !== '' && contact !== null && contact.name !== '';

  const submit = () => {
    if (!ready || contact === null) return;
    void save.start({
      objectId: dealId,
      terms,
      termsDays: known ? known.days : null,
      contactId: contact.id,
      contactName: contact.name,
      contactEmail: contact.email,
      acknowledgedOn: date,
      evidenceUrl: evidence.trim() || null,
    });
  };

  return (
    <Flex direction="column" gap="sm" testId="terms-form">
      <Select name="terms" label="Payment terms" required value={choice} onChange={(v) => setChoice(String(v))}
        options={[...TERMS_CHOICES.map((t) => ({ label: t.value, value: t.value })), { label: 'Other…', value: OTHER }]} {...problem('terms')} />
      {choice === OTHER && (
        <Input name="terms-other" label="Terms as written in the contract" required value={otherTerms} onChange={setOtherTerms} {...problem('terms')} />
      )}
      {contacts.length > 0 && (
        <Select name="contact" label="Acknowledged by" required value={contactChoice} onChange={(v) => setContactChoice(String(v))}
          options={[...contacts.map((c) => ({ label: c.email ? `${c.name} (${c.email})` : c.name, value: c.id })), { label: 'Someone else…', value: SOMEONE_ELSE }]}
          {...problem('contactName')} />
      )}
      {(contacts.length === 0 || contactChoice === SOMEONE_ELSE) && (
        <Flex direction="row" gap="sm">
          <Input name="contact-name" label="Acknowledged by (name)" required value={name} onChange={setName} {...problem('contactName')} />
          <Input name="contact-email" label="Email" value={email} onChange={setEmail} {...problem('contactEmail')} />
        </Flex>
      )}
      <DateInput name="acknowledged-on" label="Acknowledged on" required format="YYYY-MM-DD" value={isoToDateInput(date)}
        max={isoToDateInput(today)} onChange={(v) => { if (v) setDate(dateInputToIso(v)); }} {...problem('acknowledgedOn')} />
      <Input name="evidence" label="Evidence link (signed quote, email, call recording)" placeholder="https://…" value={evidence} onChange={setEvidence}
        {...problem('evidenceUrl')} />
      <Button testId="save-terms" variant="primary" disabled={!ready || save.state.status === 'sending'} onClick={submit}>Save acknowledgment</Button>
      {save.state.status === 'failed' && (
        <Alert title="The acknowledgment was not saved" variant="danger">
          <Text>{save.state.error.message}</Text>
          {Object.keys(fieldErrors).length === 0 && <Button testId="retry-terms" onClick={() => void save.retry()}>Try again</Button>}
        </Alert>
      )}
    </Flex>
  );
};
