import { describe, expect, it } from '@jest/globals';
import {
  checkImportOptions,
  CsvOptionError,
  invoiceIdsInPaymentsCsv,
  parseColumnMap,
  parseInvoicesCsv,
  parsePaymentsCsv,
  paymentToSettlement,
  rejectsCsv,
} from '../../src/import/csv-parse';

const HEADER = 'invoice_id,customer_id,issue_date,due_date,currency,amount';
const csv = (...lines: string[]): string => `${lines.join('\n')}\n`;
const messages = (result: { errors: { message: string }[] }): string[] => result.errors.map((e) => e.message);

describe('parseInvoicesCsv: canonical file', () => {
  it('reads every canonical column into invoice facts and customers', () => {
    const text = csv(
      'invoice_id,invoice_number,customer_id,customer_name,customer_domain,industry,country,issue_date,due_date,currency,amount,voided_date,disputed,sales_rep,product,deal_id,terms',
      'INV-1,1001,C1,Acme Corp,acme.com,Manufacturing,US,2024-01-05,2024-02-04,usd,1234.50,,no,Ana Rep,Widgets,D-9,Net 30',
      'INV-2,,C1,,,,,2024-01-10,2024-02-09,USD,10,2024-01-12,yes,,,,',
    );
    const result = parseInvoicesCsv(text);
    expect(result.errors).toEqual([]);
    expect(result.fatal).toBe(false);
    expect(result.rows).toBe(2);
    expect(result.validRows).toBe(2);
    expect(result.invoices).toEqual([
      {
        row: 2, id: 'INV-1', number: '1001', customerId: 'C1', currency: 'USD', totalMinor: 123450,
        issueDate: '2024-01-05', dueDate: '2024-02-04', voidedDate: null, disputed: false, salesRep: 'Ana Rep',
        product: 'Widgets', dealId: 'D-9', terms: 'Net 30', settlements: [],
      },
      {
        row: 3, id: 'INV-2', number: null, customerId: 'C1', currency: 'USD', totalMinor: 1000,
        issueDate: '2024-01-10', dueDate: '2024-02-09', voidedDate: '2024-01-12', disputed: true, salesRep: null,
        product: null, dealId: null, terms: null, settlements: [],
      },
    ]);
    expect(result.customers).toEqual([
      { id: 'C1', name: 'Acme Corp', domain: 'acme.com', industry: 'Manufacturing', country: 'US' },
    ]);
  });

  it('ignores unknown columns and accepts columns in any order', () => {
    const text = csv(
      'notes,amount,due_date,Internal Ref,issue_date,customer_id,invoice_id,currency',
      '"call first, then email",99.99,2024-03-31,X-1,2024-03-01,C7,INV-7,EUR',
    );
    const result = parseInvoicesCsv(text);
    expect(result.errors).toEqual([]);
    expect(result.invoices).toHaveLength(1);
    expect(result.invoices[0]).toMatchObject({ id: 'INV-7', customerId: 'C7', currency: 'EUR', totalMinor: 9999 });
    expect(result.columns).toMatchObject({ invoice_id: 'invoice_id', amount: 'amount' });
  });

  it('merges customers by id, the first non-empty value of each field winning', () => {
    const text = csv(
      'invoice_id,customer_id,customer_name,customer_domain,country,issue_date,due_date,amount',
      'A,C1,,,,2024-01-01,2024-01-31,1',
      'B,C1,First Name,first.com,,2024-01-01,2024-01-31,1',
      'C,C1,Second Name,second.com,DE,2024-01-01,2024-01-31,1',
      'D,C2,Other,,,2024-01-01,2024-01-31,1',
    );
    const result = parseInvoicesCsv(text, { currency: 'USD' });
    expect(result.customers).toEqual([
      { id: 'C1', name: 'First Name', domain: 'first.com', industry: null, country: 'DE' },
      { id: 'C2', name: 'Other', domain: null, industry: null, country: null },
    ]);
  });

  it('strips a UTF-8 BOM, accepts CRLF and quoted fields with commas, quotes and newlines', () => {
    const text = '\uFEFFinvoice_id,customer_id,customer_name,issue_date,due_date,currency,amount\r\n'
      + 'INV-1,C1,"Smith, Jones & ""Partners""",2024-01-01,2024-01-31,USD,"1,500.00"\r\n'
      + 'INV-2,C2,"Line one\r\nLine two",2024-01-02,2024-02-01,USD,2\r\n'
      + 'INV-3,C3,Plain,2024-01-03,2024-02-02,USD,3\n';
    const result = parseInvoicesCsv(text);
    expect(result.errors).toEqual([]);
    expect(result.header[0]).toBe('invoice_id');
    expect(result.invoices.map((i) => [i.row, i.id, i.totalMinor])).toEqual([
      [2, 'INV-1', 150000], [3, 'INV-2', 200], [4, 'INV-3', 300],
    ]);
    expect(result.customers.map((c) => c.name)).toEqual(['Smith, Jones & "Partners"', 'Line one\r\nLine two', 'Plain']);
  });

  it('skips blank rows but keeps spreadsheet row numbers', () => {
    const text = csv(HEADER, 'A,C1,2024-01-01,2024-01-31,USD,1', '', ',,,,,', 'B,C1,2024-01-01,not a date,USD,1');
    const result = parseInvoicesCsv(text);
    expect(result.rows).toBe(2);
    expect(messages(result)).toEqual(['row 5, due_date: "not a date" is not a date in YYYY-MM-DD']);
  });
});

describe('parseInvoicesCsv: column map and date formats', () => {
  it('reads mapped columns and reports a bad date with the source column and the format', () => {
    const lines = ['Invoice #,Client,Invoice Date,DueDate,Total,Currency'];
    for (let i = 0; i < 15; i += 1) lines.push(`N${i},C${i % 3},1/${i + 1}/2024,2/${i + 1}/2024,100,USD`);
    lines.push('N15,C0,1/31/2024,31/02/2024,100,USD');
    const map = parseColumnMap('invoice_id=Invoice #, customer_id=Client,issue_date=Invoice Date,due_date=DueDate,amount=Total,currency=Currency');
    const result = parseInvoicesCsv(csv(...lines), { map, dateFormat: 'M/D/YYYY' });
    expect(result.errors).toEqual([
      { row: 17, column: 'DueDate', value: '31/02/2024', message: 'row 17, DueDate: "31/02/2024" is not a date in M/D/YYYY' },
    ]);
    expect(result.validRows).toBe(15);
    expect(result.invoices[14]).toMatchObject({ id: 'N14', issueDate: '2024-01-15', dueDate: '2024-02-15' });
  });

  it('reads day-first dates', () => {
    const text = csv(HEADER, 'A,C1,31.01.2024,01.03.2024,EUR,"1.000,00"', 'B,C1,05.02.2024,06.03.2024,EUR,1000.00');
    const result = parseInvoicesCsv(text, { dateFormat: 'DD.MM.YYYY' });
    expect(messages(result)).toEqual(['row 2, amount: "1.000,00" is not an amount']);
    expect(result.invoices[0]).toMatchObject({ id: 'B', issueDate: '2024-02-05', dueDate: '2024-03-06', totalMinor: 100000 });
  });

  it('names a missing mapped column and what the file has', () => {
    const result = parseInvoicesCsv(csv('Num,Customer,Date,Due,Amount', 'A,C,2024-01-01,2024-01-02,1'), {
      map: { invoice_id: 'Num', customer_id: 'Customer', issue_date: 'Date', due_date: 'Due Date', amount: 'Amount' },
      currency: 'USD',
    });
    expect(result.fatal).toBe(true);
    expect(result.invoices).toEqual([]);
    expect(result.errors).toEqual([{
      row: 1, column: 'Due Date', value: '',
      message: 'row 1: column "Due Date" (mapped to due_date) is not in the file; the file has: Num, Customer, Date, Due, Amount',
    }]);
  });

  it('validates --map text', () => {
    expect(parseColumnMap('invoice_id=Num, due_date = Due Date ,')).toEqual({ invoice_id: 'Num', due_date: 'Due Date' });
    expect(parseColumnMap('')).toEqual({});
    expect(() => parseColumnMap('duedate=Due')).toThrow(CsvOptionError);
    expect(() => parseColumnMap('duedate=Due')).toThrow(/"duedate" is not a field\. Fields: invoice_id, invoice_number/);
    expect(() => parseColumnMap('invoice_id')).toThrow(/"invoice_id" is not target=Column/);
    expect(() => parseColumnMap('amount=Total,amount=Net')).toThrow(/"amount" is mapped twice/);
    expect(() => parseColumnMap('amount=')).toThrow(/"amount" has no column name/);
    expect(() => parseColumnMap('kind=Type', ['invoice_id', 'amount'])).toThrow(/"kind" is not a field/);
  });

  it('refuses bad options before reading', () => {
    expect(() => checkImportOptions({ dateFormat: 'Q/Q' })).toThrow(CsvOptionError);
    expect(() => checkImportOptions({ map: { nonsense: 'Col' } })).toThrow(/"nonsense" not a field/);
    expect(() => checkImportOptions({ currency: 'EURO' })).toThrow(/"EURO" is not a 3-letter currency code/);
    expect(() => checkImportOptions({ map: { amount: 'Total' }, dateFormat: 'DD.MM.YYYY', currency: 'eur' })).not.toThrow();
    expect(() => parseInvoicesCsv(csv(HEADER), { dateFormat: 'YYYY/MM' })).toThrow(CsvOptionError);
    expect(() => parseInvoicesCsv(csv(HEADER), { currency: 'dollars' })).toThrow(/"dollars" is not a 3-letter currency code/);
    expect(() => parseInvoicesCsv(csv(HEADER), { map: { total: 'Amount' } })).toThrow(/"total" not a field/);
  });
});

describe('parseInvoicesCsv: header problems', () => {
  it('lists each missing required column with the columns the file has', () => {
    const result = parseInvoicesCsv(csv('invoice_id,customer,issue_date,amount,currency', 'A,C,2024-01-01,1,USD'));
    expect(result.fatal).toBe(true);
    expect(result.rows).toBe(1);
    expect(result.validRows).toBe(0);
    expect(messages(result)).toEqual([
      'row 1: required column "customer_id" is missing; the file has: invoice_id, customer, issue_date, amount, currency',
      'row 1: required column "due_date" is missing; the file has: invoice_id, customer, issue_date, amount, currency',
    ]);
    expect(result.errors.every((e) => e.row === 1)).toBe(true);
  });

  it('rejects a duplicated column that is read, naming its spreadsheet columns', () => {
    const result = parseInvoicesCsv(csv(`${HEADER},amount,notes,notes`, 'A,C,2024-01-01,2024-01-31,USD,1,2,x,y'));
    expect(result.fatal).toBe(true);
    expect(messages(result)).toEqual(['row 1: column "amount" appears more than once (columns F, G)']);
  });

  it('requires a currency from the file or the options', () => {
    const header = 'invoice_id,customer_id,issue_date,due_date,amount';
    const missing = parseInvoicesCsv(csv(header, 'A,C,2024-01-01,2024-01-31,1'));
    expect(missing.fatal).toBe(true);
    expect(messages(missing)).toEqual(['row 1: the file has no currency column and no default currency was given (--currency)']);

    const withDefault = parseInvoicesCsv(csv(header, 'A,C,2024-01-01,2024-01-31,1'), { currency: 'gbp' });
    expect(withDefault.invoices[0]?.currency).toBe('GBP');

    const cells = parseInvoicesCsv(csv(HEADER, 'A,C,2024-01-01,2024-01-31,,1', 'B,C,2024-01-01,2024-01-31,eur,1'));
    expect(messages(cells)).toEqual(['row 2, currency: "" is empty and no default currency was given']);
    expect(cells.invoices.map((i) => i.currency)).toEqual(['EUR']);

    const column = parseInvoicesCsv(csv(HEADER, 'A,C,2024-01-01,2024-01-31,,1', 'B,C,2024-01-01,2024-01-31,JPY,1'), { currency: 'CAD' });
    expect(column.invoices.map((i) => i.currency)).toEqual(['CAD', 'JPY']);
  });

  it('reports an empty file and a file with only a header', () => {
    expect(messages(parseInvoicesCsv(''))).toEqual(['row 1: the file has no header row']);
    const headerOnly = parseInvoicesCsv(csv(HEADER));
    expect(headerOnly).toMatchObject({ fatal: false, rows: 0, errors: [], invoices: [] });
  });

  it('reports a quote left open as fatal, keeping the rows read before it', () => {
    const result = parseInvoicesCsv(csv(HEADER, 'A,C,2024-01-01,2024-01-31,USD,1', 'B,"C,2024-01-01,2024-01-31,USD,1'));
    expect(result.fatal).toBe(true);
    expect(result.invoices.map((i) => i.id)).toEqual(['A']);
    expect(result.errors[0]?.row).toBe(3);
    expect(result.errors[0]?.message).toMatch(/^row 3: Quote Not Closed/);
  });
});

describe('parseInvoicesCsv: cells', () => {
  it('rejects bad amounts and respects each currency exponent', () => {
    const text = csv(
      HEADER,
      'A,C,2024-01-01,2024-01-31,USD,12.345',
      'B,C,2024-01-01,2024-01-31,JPY,1200.5',
      'C,C,2024-01-01,2024-01-31,JPY,"¥1,200"',
      'D,C,2024-01-01,2024-01-31,KWD,1.234',
      'E,C,2024-01-01,2024-01-31,KWD,1.2345',
      'F,C,2024-01-01,2024-01-31,USD,twelve',
      'G,C,2024-01-01,2024-01-31,USD,-5',
      'H,C,2024-01-01,2024-01-31,USD,0',
      'I,C,2024-01-01,2024-01-31,USD,"$1,234.50"',
      'J,C,2024-01-01,2024-01-31,USD,12.300',
      'K,C,2024-01-01,2024-01-31,US,1',
      'L,C,2024-01-01,2024-01-31,USD,',
    );
    const result = parseInvoicesCsv(text);
    expect(messages(result)).toEqual([
      'row 2, amount: "12.345" has more decimals than USD allows (2)',
      'row 3, amount: "1200.5" has more decimals than JPY allows (0)',
      'row 6, amount: "1.2345" has more decimals than KWD allows (3)',
      'row 7, amount: "twelve" is not an amount',
      'row 8, amount: "-5" is negative',
      'row 12, currency: "US" is not a 3-letter currency code',
      'row 13, amount: "" is empty but required',
    ]);
    expect(result.invoices.map((i) => [i.id, i.currency, i.totalMinor])).toEqual([
      ['C', 'JPY', 1200], ['D', 'KWD', 1234], ['H', 'USD', 0], ['I', 'USD', 123450], ['J', 'USD', 1230],
    ]);
  });

  it('reads disputed flags', () => {
    const values = ['yes', 'No', 'TRUE', 'false', '1', '0', '', 'Y', 'maybe'];
    const text = csv(`${HEADER},disputed`, ...values.map((v, i) => `I${i},C,2024-01-01,2024-01-31,USD,1,${v}`));
    const result = parseInvoicesCsv(text);
    expect(result.invoices.map((i) => i.disputed)).toEqual([true, false, true, false, true, false, false, true]);
    expect(messages(result)).toEqual(['row 10, disputed: "maybe" is not yes/no/true/false/1/0']);
  });

  it('checks dates: required, real, due not before issue, voided a date', () => {
    const text = csv(
      `${HEADER},voided_date`,
      'A,C,2024-02-01,2024-01-31,USD,1,',
      'B,C,,2024-01-31,USD,1,',
      'C,C,2024-01-01,2024-01-31,USD,1,soon',
      'D,C,2024-01-01,2024-01-01,USD,1,2024-01-05',
    );
    const result = parseInvoicesCsv(text);
    expect(messages(result)).toEqual([
      'row 2, due_date: "2024-01-31" is before the issue date 2024-02-01',
      'row 3, issue_date: "" is empty but required',
      'row 4, voided_date: "soon" is not a date in YYYY-MM-DD',
    ]);
    expect(result.invoices).toHaveLength(1);
    expect(result.invoices[0]).toMatchObject({ id: 'D', voidedDate: '2024-01-05' });
  });

  it('refuses a void or a payment dated before the invoice was issued, and year 0', () => {
    const result = parseInvoicesCsv(csv(`${HEADER},voided_date,paid_date`,
      'I1,C,2024-01-10,2024-02-09,USD,1,2024-01-01,',
      'I2,C,2024-01-10,2024-02-09,USD,1,,2023-12-01',
      'I3,C,0000-01-10,2024-02-09,USD,1,,'));
    expect(messages(result)).toEqual([
      'row 2, voided_date: "2024-01-01" is before the issue date 2024-01-10',
      'row 3, paid_date: "2023-12-01" is before the issue date 2024-01-10',
      'row 4, issue_date: "0000-01-10" is not a date in YYYY-MM-DD',
    ]);
  });

  it('collects every error of every row', () => {
    const result = parseInvoicesCsv(csv(HEADER, ',,1/1/2024,2024-13-01,usd,1.999', ',C,2024-01-01,2024-01-31,USD,1'));
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'invoice_id'], [2, 'customer_id'], [2, 'issue_date'], [2, 'due_date'], [2, 'amount'], [3, 'invoice_id'],
    ]);
    expect(result.rejected.map((r) => [r.row, r.messages.length])).toEqual([[2, 5], [3, 1]]);
  });

  it('rejects ids holding control characters (a tab or line break inside quotes)', () => {
    const result = parseInvoicesCsv(csv(HEADER, '"INV\t1",C1,2024-01-01,2024-01-31,USD,1', 'INV-2,"C\n2",2024-01-01,2024-01-31,USD,1'));
    expect(messages(result)).toEqual([
      'row 2, invoice_id: "INV\\t1" contains a control character (tab or line break)',
      'row 3, customer_id: "C\\n2" contains a control character (tab or line break)',
    ]);
    expect(result.invoices).toEqual([]);
  });

  it('reports a duplicate invoice id naming both rows, keeping the first', () => {
    const result = parseInvoicesCsv(csv(HEADER, 'A,C,2024-01-01,2024-01-31,USD,1', 'B,C,2024-01-01,2024-01-31,USD,1', 'A,C,2024-01-01,2024-01-31,USD,2'));
    expect(result.errors).toEqual([{ row: 4, column: 'invoice_id', value: 'A', message: 'row 4, invoice_id: "A" duplicates row 2' }]);
    expect(result.invoices.map((i) => [i.id, i.totalMinor])).toEqual([['A', 100], ['B', 100]]);
  });

  it('caps the listed errors and counts the rest', () => {
    const lines = [HEADER];
    for (let i = 0; i < 30; i += 1) lines.push(`I${i},C,2024-01-01,2024-01-31,USD,x`);
    const result = parseInvoicesCsv(csv(...lines), { maxErrors: 10 });
    expect(result.errors).toHaveLength(10);
    expect(result.omittedErrors).toBe(20);
    expect(result.rejected).toHaveLength(30);
  });
});

describe('parseInvoicesCsv: paid_date (one-file variant)', () => {
  it('turns paid_date into one full payment', () => {
    const text = csv(
      `${HEADER},paid_date`,
      'A,C,2024-01-01,2024-01-31,USD,250.00,2024-02-03',
      'B,C,2024-01-01,2024-01-31,USD,99,',
      'C,C,2024-01-01,2024-01-31,USD,0,2024-01-02',
      'D,C,2024-01-01,2024-01-31,USD,1,03/02/2024',
    );
    const result = parseInvoicesCsv(text);
    expect(result.invoices.map((i) => [i.id, i.settlements])).toEqual([
      ['A', [{ id: 'A:paid', date: '2024-02-03', amountMinor: 25000, kind: 'payment' }]],
      ['B', []],
      ['C', []],
    ]);
    expect(messages(result)).toEqual(['row 5, paid_date: "03/02/2024" is not a date in YYYY-MM-DD']);
  });
});

describe('parseInvoicesCsv: a QuickBooks export', () => {
  const QUICKBOOKS = [
    '"Date","Transaction Type","Num","Customer","Due Date","Terms","Memo/Description","Amount","Open Balance"',
    '"01/15/2024","Invoice","1001","Acme Corp.","02/14/2024","Net 30","Annual license, 10 seats","$12,000.00","$0.00"',
    '"01/22/2024","Invoice","1002","Brightside Dental","02/21/2024","Net 30","","450.00","450.00"',
    '"02/01/2024","Invoice","1003","Acme Corp.","03/02/2024","Net 30","Support, Q1","1,500.00","1,500.00"',
    '"02/10/2024","Invoice","1004","Cole & Sons, LLC","02/25/2024","Net 15","Install","2,250.50","1,000.00"',
    '"TOTAL","","","","","","","$16,200.50","$2,950.00"',
  ].join('\r\n');

  it('loads with a map, reporting the total line as a rejected row', () => {
    const map = parseColumnMap(
      'invoice_id=Num,invoice_number=Num,customer_id=Customer,customer_name=Customer,issue_date=Date,due_date=Due Date,amount=Amount,terms=Terms',
    );
    const result = parseInvoicesCsv(QUICKBOOKS, { map, dateFormat: 'MM/DD/YYYY', currency: 'USD' });
    expect(result.rows).toBe(5);
    expect(result.invoices.map((i) => [i.id, i.number, i.customerId, i.issueDate, i.dueDate, i.totalMinor, i.terms])).toEqual([
      ['1001', '1001', 'Acme Corp.', '2024-01-15', '2024-02-14', 1200000, 'Net 30'],
      ['1002', '1002', 'Brightside Dental', '2024-01-22', '2024-02-21', 45000, 'Net 30'],
      ['1003', '1003', 'Acme Corp.', '2024-02-01', '2024-03-02', 150000, 'Net 30'],
      ['1004', '1004', 'Cole & Sons, LLC', '2024-02-10', '2024-02-25', 225050, 'Net 15'],
    ]);
    expect(result.customers.map((c) => [c.id, c.name])).toEqual([
      ['Acme Corp.', 'Acme Corp.'], ['Brightside Dental', 'Brightside Dental'], ['Cole & Sons, LLC', 'Cole & Sons, LLC'],
    ]);
    expect(messages(result)).toEqual([
      'row 6, Num: "" is empty but required',
      'row 6, Customer: "" is empty but required',
      'row 6, Date: "TOTAL" is not a date in MM/DD/YYYY',
      'row 6, Due Date: "" is empty but required',
    ]);
  });

  it('writes the rejected rows back out with an error column', () => {
    const map = { invoice_id: 'Num', customer_id: 'Customer', issue_date: 'Date', due_date: 'Due Date', amount: 'Amount' };
    const result = parseInvoicesCsv(QUICKBOOKS, { map, dateFormat: 'MM/DD/YYYY', currency: 'USD' });
    const rejects = rejectsCsv(result);
    expect(rejects).toBe(
      'Date,Transaction Type,Num,Customer,Due Date,Terms,Memo/Description,Amount,Open Balance,error\n'
      + 'TOTAL,,,,,,,"$16,200.50","$2,950.00","row 6, Num: """" is empty but required; row 6, Customer: """" is empty but required; '
      + 'row 6, Date: ""TOTAL"" is not a date in MM/DD/YYYY; row 6, Due Date: """" is empty but required"\n',
    );
    // The rejects file reads back with the same header and map.
    const again = parseInvoicesCsv(rejects, { map, dateFormat: 'MM/DD/YYYY', currency: 'USD' });
    expect(again.rows).toBe(1);
    expect(again.rejected[0]?.cells[0]).toBe('TOTAL');
  });

  it('skips the report title block above the header, keeping spreadsheet row numbers', () => {
    const text = [
      "Craig's Design and Landscaping Services,,,,,,,",
      'Invoice List',
      'All Dates',
      '',
      'Date,Transaction type,Num,Customer,Due date,Memo/Description,Amount,Open balance',
      '03/04/2024,Invoice,1001,Amy\'s Bird Sanctuary,04/03/2024,Garden design,"1,250.00",0.00',
      '03/18/2024,Invoice,1002,Bill\'s Windsurf Shop,04/17/2024,,85.00,85.00',
      '04/02/2024,Invoice,1003,Cool Cars,31/05/2024,"Lighting, install",2400.50,"2,400.50"',
    ].join('\n');
    const map = parseColumnMap('invoice_id=Num,customer_id=Customer,issue_date=Date,due_date=Due date,amount=Amount');
    const result = parseInvoicesCsv(text, { map, dateFormat: 'M/D/YYYY', currency: 'USD' });
    expect(result.header[0]).toBe('Date');
    expect(result.rows).toBe(3);
    expect(result.invoices.map((i) => [i.row, i.id, i.totalMinor])).toEqual([[6, '1001', 125000], [7, '1002', 8500]]);
    expect(messages(result)).toEqual(['row 8, Due date: "31/05/2024" is not a date in M/D/YYYY']);

    const titleOnly = parseInvoicesCsv('Invoice List\nAll Dates\n', { map, currency: 'USD' });
    expect(titleOnly.fatal).toBe(true);
    expect(titleOnly.errors[0]?.message).toBe('row 1: column "Num" (mapped to invoice_id) is not in the file; the file has: Invoice List');
  });

  it('names the error column import_error when the file already has an error column', () => {
    const result = parseInvoicesCsv(csv(`${HEADER},error`, 'A,C,x,2024-01-31,USD,1,old'));
    expect(rejectsCsv(result).split('\n')[0]).toBe(`${HEADER},error,import_error`);
  });
});

describe('parsePaymentsCsv', () => {
  const PAY_HEADER = 'payment_id,invoice_id,date,amount,currency,kind';

  it('reads payments, credit notes and write-offs', () => {
    const text = csv(
      PAY_HEADER,
      'P1,INV-1,2024-02-01,100.00,USD,',
      'CN1,INV-1,2024-02-02,25,usd,credit_note',
      'W1,INV-1,2024-02-03,0.5,USD,Write-Off',
      'P2,INV-2,2024-02-04,1500,JPY,payment',
      'P3,INV-3,2024-02-05,1,USD,refund',
    );
    const result = parsePaymentsCsv(text);
    expect(result.payments).toEqual([
      { row: 2, id: 'P1', invoiceId: 'INV-1', date: '2024-02-01', kind: 'payment', amount: '100.00', currency: 'USD', amountMinor: 10000 },
      { row: 3, id: 'CN1', invoiceId: 'INV-1', date: '2024-02-02', kind: 'credit_note', amount: '25', currency: 'USD', amountMinor: 2500 },
      { row: 4, id: 'W1', invoiceId: 'INV-1', date: '2024-02-03', kind: 'write_off', amount: '0.5', currency: 'USD', amountMinor: 50 },
      { row: 5, id: 'P2', invoiceId: 'INV-2', date: '2024-02-04', kind: 'payment', amount: '1500', currency: 'JPY', amountMinor: 1500 },
    ]);
    expect(messages(result)).toEqual(['row 6, kind: "refund" is not payment, credit_note, write_off']);
  });

  it('requires positive amounts and real dates', () => {
    const text = csv(PAY_HEADER, 'P1,I,2024-02-01,0,USD,', 'P2,I,2024-02-01,-3,USD,', 'P3,I,2024-02-30,3,USD,', 'P4,I,2024-02-01,1.001,USD,');
    expect(messages(parsePaymentsCsv(text))).toEqual([
      'row 2, amount: "0" is not more than 0',
      'row 3, amount: "-3" is not more than 0',
      'row 4, date: "2024-02-30" is not a date in YYYY-MM-DD',
      'row 5, amount: "1.001" has more decimals than USD allows (2)',
    ]);
  });

  it('resolves the currency from the row, then the invoice, then the default, else keeps the amount as text', () => {
    const text = csv('payment_id,invoice_id,date,amount,currency', 'P1,INV-J,2024-02-01,1200,', 'P2,INV-X,2024-02-01,12.5,', 'P3,INV-X,2024-02-01,3,EUR');
    const known: Record<string, string> = { 'INV-J': 'JPY' };
    const lookup = (id: string): string | undefined => known[id];
    const withLookup = parsePaymentsCsv(text, { invoiceCurrency: lookup, currency: 'GBP' });
    expect(withLookup.payments.map((p) => [p.id, p.currency, p.amountMinor])).toEqual([
      ['P1', 'JPY', 1200], ['P2', 'GBP', 1250], ['P3', 'EUR', 300],
    ]);
    const bare = parsePaymentsCsv(text);
    expect(bare.errors).toEqual([]);
    expect(bare.payments.map((p) => [p.id, p.currency, p.amountMinor, p.amount])).toEqual([
      ['P1', null, null, '1200'], ['P2', null, null, '12.5'], ['P3', 'EUR', 300, '3'],
    ]);
  });

  it('checks rows against known invoices: unknown invoice, other currency', () => {
    const text = csv(
      'payment_id,invoice_id,date,amount,currency',
      'P1,INV-1,2024-02-01,10,',
      'P2,INV-1,2024-02-01,10,usd',
      'P3,INV-1,2024-02-01,10,EUR',
      'P4,INV-404,2024-02-01,10,USD',
      'P5,INV-404,bad,10,USD',
    );
    const ids = invoiceIdsInPaymentsCsv(text);
    expect(ids).toEqual(['INV-1', 'INV-404']);
    const known = new Map([['INV-1', 'USD']]);
    const result = parsePaymentsCsv(text, { invoiceCurrency: (id) => known.get(id), requireKnownInvoice: true });
    expect(result.payments.map((p) => [p.id, p.currency, p.amountMinor])).toEqual([['P1', 'USD', 1000], ['P2', 'USD', 1000]]);
    expect(messages(result)).toEqual([
      'row 4, currency: "EUR" is not the currency of invoice INV-1 (USD)',
      'row 5, invoice_id: "INV-404" is not a known invoice',
      'row 6, date: "bad" is not a date in YYYY-MM-DD',
      'row 6, invoice_id: "INV-404" is not a known invoice',
    ]);
    const lenient = parsePaymentsCsv(text, { invoiceCurrency: (id) => known.get(id) });
    expect(lenient.payments.map((p) => p.id)).toEqual(['P1', 'P2', 'P4']);
  });

  it('turns a payment into a settlement in its invoice currency', () => {
    const text = csv('payment_id,invoice_id,date,amount,kind', 'P1,INV-1,2024-02-01,12.5,credit_note', 'P2,INV-1,2024-02-01,12.345,');
    const [p1, p2] = parsePaymentsCsv(text).payments;
    if (!p1 || !p2) throw new Error('expected two payments');
    expect(paymentToSettlement(p1, 'USD')).toEqual({ settlement: { id: 'P1', date: '2024-02-01', amountMinor: 1250, kind: 'credit_note' } });
    expect(paymentToSettlement(p2, 'KWD')).toEqual({ settlement: { id: 'P2', date: '2024-02-01', amountMinor: 12345, kind: 'payment' } });
    expect(paymentToSettlement(p2, 'USD')).toEqual({ error: 'row 3: amount "12.345" has more decimals than USD allows (2)' });
    const [eur] = parsePaymentsCsv(csv(PAY_HEADER, 'P9,INV-1,2024-02-01,5,EUR,')).payments;
    if (!eur) throw new Error('expected a payment');
    expect(paymentToSettlement(eur, 'USD')).toEqual({ error: 'row 2: payment P9 is in EUR but invoice INV-1 is in USD' });
  });

  it('lets one payment settle several invoices but rejects a repeated payment and invoice pair', () => {
    const text = csv(PAY_HEADER, 'P1,INV-1,2024-02-01,10,USD,', 'P1,INV-2,2024-02-01,20,USD,', 'P1,INV-1,2024-02-01,10,USD,');
    const result = parsePaymentsCsv(text);
    expect(result.payments.map((p) => p.invoiceId)).toEqual(['INV-1', 'INV-2']);
    expect(messages(result)).toEqual(['row 4, payment_id: "P1" duplicates row 2 (same payment and invoice)']);
  });

  it('rejects the rows of a split payment that disagree on date or kind, beside the other errors', () => {
    const text = csv(PAY_HEADER, 'P1,INV-1,2024-02-01,10,USD,', 'P1,INV-2,2024-02-03,20,USD,', 'P1,INV-3,2024-02-01,5,USD,credit_note', 'P2,INV-4,2024-13-01,5,USD,');
    const result = parsePaymentsCsv(text);
    expect(messages(result)).toEqual([
      'row 3, payment_id: "P1" is on row 2 with another date, kind or currency',
      'row 4, payment_id: "P1" is on row 2 with another date, kind or currency',
      'row 5, date: "2024-13-01" is not a date in YYYY-MM-DD',
    ]);
    expect(result.payments.map((p) => p.invoiceId)).toEqual(['INV-1']);
    expect(result.rejected.map((r) => r.row)).toEqual([3, 4, 5]);
    expect(rejectsCsv(result).split('\n')[1]).toMatch(/^P1,INV-2,2024-02-03,20,USD,,/);
  });

  it('maps columns and reports missing required ones', () => {
    const text = csv('Ref,Applied To,Received,Amount Received,Type', 'R-1,1001,3/4/2024,"$1,000.00",Payment');
    const map = parseColumnMap('payment_id=Ref,invoice_id=Applied To,date=Received,amount=Amount Received,kind=Type');
    const result = parsePaymentsCsv(text, { map, dateFormat: 'M/D/YYYY', currency: 'USD' });
    expect(result.payments).toMatchObject([{ id: 'R-1', invoiceId: '1001', date: '2024-03-04', amountMinor: 100000, kind: 'payment' }]);
    const missing = parsePaymentsCsv(csv('payment_id,date,amount', 'P,2024-01-01,1'));
    expect(messages(missing)).toEqual(['row 1: required column "invoice_id" is missing; the file has: payment_id, date, amount']);
  });
});

describe('large files', () => {
  it('parses 50,000 invoice rows completely', () => {
    const header = 'invoice_id,invoice_number,customer_id,customer_name,customer_domain,industry,country,issue_date,due_date,currency,amount,voided_date,disputed,sales_rep,product,deal_id,terms';
    const parts = [header];
    for (let i = 0; i < 50_000; i += 1) {
      parts.push(`INV-${i},${i},C${i % 5000},"Customer ${i % 5000}, Inc",c${i % 5000}.com,Retail,US,2024-01-05,2024-02-04,USD,"1,234.50",,no,Rep ${i % 8},Product ${i % 6},D${i},Net 30`);
    }
    const result = parseInvoicesCsv(parts.join('\n'));
    expect(result.errors).toEqual([]);
    expect(result.invoices).toHaveLength(50_000);
    expect(result.customers).toHaveLength(5000);
    expect(result.invoices[49_999]?.totalMinor).toBe(123_450);
  });
});

describe('rows longer than the header', () => {
  it('rejects a row whose unquoted comma shifted its cells, and keeps the rejects file aligned', () => {
    const text = csv(HEADER, 'A,C,2024-01-01,2024-01-31,USD,1,234.50', 'B,C,2024-01-01,2024-01-31,USD,5,,', 'C,C,2024-01-01,2024-01-31,USD,7');
    const result = parseInvoicesCsv(text);
    expect(result.invoices.map((i) => [i.id, i.totalMinor])).toEqual([['B', 500], ['C', 700]]);
    expect(messages(result)).toEqual(['row 2: has 7 cells but the header has 6; is a comma unquoted?']);
    expect(rejectsCsv(result)).toBe(
      `${HEADER},,error\nA,C,2024-01-01,2024-01-31,USD,1,234.50,row 2: has 7 cells but the header has 6; is a comma unquoted?\n`,
    );
  });
});
