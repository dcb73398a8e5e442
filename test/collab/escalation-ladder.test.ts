import { describe, expect, it } from '@jest/globals';
import { activeException, evaluateLadder, groupSteps, levelReached, type LadderInvoice } from '../../src/domain/escalation';
import { DEFAULT_ESCALATION_POLICY } from '../../src/domain/policy';

const levels = DEFAULT_ESCALATION_POLICY.levels;
const inv = (invoiceId: number, customerId: number, dueDate: string, openMinor = 10_000): LadderInvoice => ({ invoiceId, customerId, dueDate, openMinor });

describe('the escalation ladder', () => {
  it('finds the highest level reached by days past due (defaults 7, 30, 60, 90)', () => {
    expect(levelReached(levels, 6)).toBeNull();
    expect(levelReached(levels, 7)?.action).toBe('reminder');
    expect(levelReached(levels, 29)?.action).toBe('reminder');
    expect(levelReached(levels, 30)?.action).toBe('ask_rep');
    expect(levelReached(levels, 60)?.action).toBe('escalate_manager');
    expect(levelReached(levels, 365)?.action).toBe('credit_hold');
    expect(levelReached(levels, -3)).toBeNull();
  });

  it('makes the highest level reached due once, skips paid invoices and steps already taken', () => {
    const asOf = '2026-04-30';
    const invoices = [inv(1, 10, '2026-04-23'), inv(2, 10, '2026-03-31'), inv(3, 11, '2026-01-01'), inv(4, 11, '2026-04-29'), inv(5, 12, '2026-01-01', 0)];
    const first = evaluateLadder({ levels }, invoices, [], [], asOf);
    expect(first.due.map((s) => [s.invoiceId, s.level.action, s.daysPastDue])).toEqual([
      [1, 'reminder', 7], [2, 'ask_rep', 30], [3, 'credit_hold', 119],
    ]);
    expect(first.invoices.find((i) => i.invoiceId === 4)).toEqual({ invoiceId: 4, customerId: 11, daysPastDue: 1, level: null });
    expect(first.invoices.some((i) => i.invoiceId === 5)).toBe(false);
    const again = evaluateLadder({ levels }, invoices, [], first.due.map((s) => ({ invoiceId: s.invoiceId, action: s.level.action })), asOf);
    expect(again.due).toEqual([]);
    // A month later invoice 1 reached ask_rep: a new step; invoice 2 reached escalate_manager.
    const later = evaluateLadder({ levels }, invoices, [], first.due.map((s) => ({ invoiceId: s.invoiceId, action: s.level.action })), '2026-05-30');
    expect(later.due.map((s) => [s.invoiceId, s.level.action])).toEqual([[1, 'ask_rep'], [2, 'escalate_manager'], [4, 'ask_rep']]);
  });

  it('holds the steps of a customer with an exception until its end date (inclusive), then takes the level reached', () => {
    const invoices = [inv(1, 10, '2026-03-01'), inv(2, 20, '2026-03-01')];
    const exceptions = [{ customerId: 10, reason: 'CFO agreed a payment plan', until: '2026-04-15', actions: null }];
    const during = evaluateLadder({ levels }, invoices, exceptions, [], '2026-04-15');
    expect(during.due.map((s) => s.invoiceId)).toEqual([2]);
    expect(during.held).toEqual([{ invoiceId: 1, customerId: 10, daysPastDue: 45, level: { days: 30, action: 'ask_rep' }, reason: 'CFO agreed a payment plan', until: '2026-04-15' }]);
    const after = evaluateLadder({ levels }, invoices, exceptions, [], '2026-04-16');
    expect(after.held).toEqual([]);
    expect(after.due.map((s) => [s.invoiceId, s.level.action])).toEqual([[1, 'ask_rep'], [2, 'ask_rep']]);
  });

  it('holds only the actions an exception names; the longest exception is the one reported', () => {
    const exceptions = [
      { customerId: 10, reason: 'no reminders during the audit', until: '2026-06-30', actions: ['reminder' as const] },
      { customerId: 10, reason: 'short', until: '2026-05-01', actions: ['reminder' as const, 'ask_rep' as const] },
    ];
    expect(activeException(exceptions, 10, 'reminder', '2026-04-20')?.reason).toBe('no reminders during the audit');
    expect(activeException(exceptions, 10, 'ask_rep', '2026-05-02')).toBeNull();
    expect(activeException(exceptions, 10, 'credit_hold', '2026-04-20')).toBeNull();
    const result = evaluateLadder({ levels }, [inv(1, 10, '2026-04-10'), inv(2, 10, '2026-03-20')], exceptions, [], '2026-04-20');
    expect(result.held.map((s) => s.invoiceId)).toEqual([1, 2]);
    expect(evaluateLadder({ levels }, [inv(2, 10, '2026-03-20')], exceptions, [], '2026-05-02').due.map((s) => s.level.action)).toEqual(['ask_rep']);
  });

  it('follows a custom policy and groups steps per customer and action', () => {
    const custom = [{ days: 1, action: 'reminder' as const }, { days: 15, action: 'credit_hold' as const }];
    const result = evaluateLadder({ levels: custom }, [inv(1, 1, '2026-04-01'), inv(2, 1, '2026-04-02'), inv(3, 2, '2026-04-19')], [], [], '2026-04-20');
    expect(groupSteps(result.due).map((g) => [g.customerId, g.action, g.steps.map((s) => s.invoiceId)])).toEqual([
      [1, 'credit_hold', [1, 2]], [2, 'reminder', [3]],
    ]);
  });
});
