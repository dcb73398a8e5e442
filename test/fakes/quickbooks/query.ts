// The subset of QuickBooks' query language the fake understands (Intuit's own is SQL-like without OR, JOIN,
// GROUP BY or projections):
//   SELECT * | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...] [ORDERBY <field> [ASC|DESC]]
//   [STARTPOSITION n] [MAXRESULTS n]
//   <cond>: <field> (= | != | < | > | <= | >=) <value> | <field> IN (<value>, ...) | <field> LIKE '<text with %>'
// Keywords are case-insensitive; values are 'quoted strings', true, false or numbers; fields may be dotted
// (MetaData.LastUpdatedTime, CustomerRef).
// https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries

export type Value = string | number | boolean;
export type Condition =
  | { field: string; op: '=' | '!=' | '<' | '>' | '<=' | '>='; value: Value }
  | { field: string; op: 'IN'; values: Value[] }
  | { field: string; op: 'LIKE'; pattern: string };

export type Query = {
  count: boolean;
  entity: string;
  where: Condition[];
  orderBy: { field: string; descending: boolean } | null;
  startPosition: number;
  maxResults: number;
};

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

type Token = { kind: 'word' | 'string' | 'number' | 'symbol'; text: string };

const TOKEN = /\s*(?:('(?:[^'\\]|\\.|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][\w.]*)|(<=|>=|!=|<>|[=<>*(),]))/y;

const tokenize = (text: string): Token[] => {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    TOKEN.lastIndex = index;
    const match = TOKEN.exec(text);
    if (!match) throw new QueryError(`Encountered an unexpected character at position ${index + 1}: "${text.slice(index, index + 10)}"`);
    index = TOKEN.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'string', text: match[1].slice(1, -1).replace(/\\(.)/g, '$1').replace(/''/g, "'") });
    else if (match[2] !== undefined) tokens.push({ kind: 'number', text: match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: 'word', text: match[3] });
    else tokens.push({ kind: 'symbol', text: match[4] === '<>' ? '!=' : (match[4] as string) });
  }
  return tokens;
};

export const parseQuery = (text: string): Query => {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const isWord = (word: string): boolean => peek()?.kind === 'word' && peek()?.text.toUpperCase() === word;
  const expectWord = (word: string): void => {
    if (!isWord(word)) throw new QueryError(`Expected ${word} but found "${peek()?.text ?? 'the end'}"`);
    at += 1;
  };
  const expectSymbol = (symbol: string): void => {
    if (peek()?.kind !== 'symbol' || peek()?.text !== symbol) throw new QueryError(`Expected "${symbol}" but found "${peek()?.text ?? 'the end'}"`);
    at += 1;
  };
  const field = (): string => {
    const token = peek();
    if (token?.kind !== 'word') throw new QueryError(`Expected a property name but found "${token?.text ?? 'the end'}"`);
    at += 1;
    return token.text;
  };
  const value = (): Value => {
    const token = peek();
    at += 1;
    if (token?.kind === 'string') return token.text;
    if (token?.kind === 'number') return Number(token.text);
    if (token?.kind === 'word' && /^(true|false)$/i.test(token.text)) return token.text.toLowerCase() === 'true';
    throw new QueryError(`Expected a value but found "${token?.text ?? 'the end'}"`);
  };
  const integer = (name: string): number => {
    const token = peek();
    at += 1;
    if (token?.kind !== 'number' || !/^\d+$/.test(token.text)) throw new QueryError(`${name} needs a whole number`);
    return Number(token.text);
  };

  expectWord('SELECT');
  let count = false;
  if (isWord('COUNT')) {
    at += 1;
    expectSymbol('(');
    expectSymbol('*');
    expectSymbol(')');
    count = true;
  } else {
    expectSymbol('*');
  }
  expectWord('FROM');
  const entity = field();
  const where: Condition[] = [];
  if (isWord('WHERE')) {
    at += 1;
    for (;;) {
      const name = field();
      const token = peek();
      if (token?.kind === 'word' && token.text.toUpperCase() === 'IN') {
        at += 1;
        expectSymbol('(');
        const values = [value()];
        while (peek()?.text === ',') {
          at += 1;
          values.push(value());
        }
        expectSymbol(')');
        where.push({ field: name, op: 'IN', values });
      } else if (token?.kind === 'word' && token.text.toUpperCase() === 'LIKE') {
        at += 1;
        const pattern = value();
        if (typeof pattern !== 'string') throw new QueryError('LIKE needs a quoted pattern');
        where.push({ field: name, op: 'LIKE', pattern });
      } else if (token?.kind === 'symbol' && ['=', '!=', '<', '>', '<=', '>='].includes(token.text)) {
        at += 1;
        where.push({ field: name, op: token.text as '=', value: value() });
      } else {
        throw new QueryError(`Expected an operator after ${name} but found "${token?.text ?? 'the end'}"`);
      }
      if (isWord('OR')) throw new QueryError('OR is not supported');
      if (!isWord('AND')) break;
      at += 1;
    }
  }
  let orderBy: Query['orderBy'] = null;
  if (isWord('ORDERBY') || isWord('ORDER')) {
    if (isWord('ORDER')) {
      at += 1;
      expectWord('BY');
    } else {
      at += 1;
    }
    const name = field();
    let descending = false;
    if (isWord('DESC') || isWord('ASC')) {
      descending = isWord('DESC');
      at += 1;
    }
    orderBy = { field: name, descending };
  }
  let startPosition = 1;
  let maxResults = 100;
  for (;;) {
    if (isWord('STARTPOSITION')) {
      at += 1;
      startPosition = integer('STARTPOSITION');
    } else if (isWord('MAXRESULTS')) {
      at += 1;
      maxResults = integer('MAXRESULTS');
    } else {
      break;
    }
  }
  if (at < tokens.length) throw new QueryError(`Encountered "${tokens[at]?.text}" where the query should end`);
  if (startPosition < 1) throw new QueryError('STARTPOSITION starts at 1');
  if (maxResults > 1000) throw new QueryError(`value ${maxResults} for MAXRESULTS exceeds the maximum of 1000`);
  return { count, entity, where, orderBy, startPosition, maxResults };
};

/** The value of a dotted property; a reference ({value, name}) compares by its value. */
export const propertyOf = (object: Record<string, unknown>, path: string): unknown => {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === part.toLowerCase());
    current = key === undefined ? undefined : record[key];
  }
  if (current !== null && typeof current === 'object' && 'value' in current) return (current as { value: unknown }).value;
  return current;
};

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T/;
const NUMERIC = /^\d+$/;

/** Orders two property values as QuickBooks would: timestamps by instant, numeric ids by number. */
export const compareValues = (a: unknown, b: unknown): number => {
  if (typeof a === 'string' && typeof b === 'string') {
    if (TIMESTAMP.test(a) && TIMESTAMP.test(b)) return Date.parse(a) - Date.parse(b);
    if (NUMERIC.test(a) && NUMERIC.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  return compareValues(String(a), String(b));
};

const sameValue = (a: unknown, b: Value): boolean =>
  typeof b === 'string' && typeof a === 'string' ? compareValues(a, b) === 0 : String(a) === String(b);

export const matches = (object: Record<string, unknown>, condition: Condition): boolean => {
  const actual = propertyOf(object, condition.field);
  switch (condition.op) {
    case 'IN':
      return condition.values.some((v) => sameValue(actual, v));
    case 'LIKE': {
      const pattern = new RegExp(`^${condition.pattern.split('%').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
      return typeof actual === 'string' && pattern.test(actual);
    }
    case '=':
      return sameValue(actual, condition.value);
    case '!=':
      return !sameValue(actual, condition.value);
    default: {
      if (actual === undefined || actual === null) return false;
      const order = compareValues(actual, condition.value);
      return condition.op === '<' ? order < 0 : condition.op === '>' ? order > 0 : condition.op === '<=' ? order <= 0 : order >= 0;
    }
  }
};
