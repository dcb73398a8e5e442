import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { contractsDir } from '../../helpers/contracts';

/**
 * Checks JSON against the schemas of Xero's OpenAPI documents in ../shared/contracts/xero (read at test time).
 * A small validator of the OpenAPI schema keywords those documents use: $ref (JSON pointers, also into
 * properties), type, properties, required, items, enum, const, oneOf / anyOf / allOf, format (uuid, date-time),
 * maxLength, minimum / maximum, nullable, additionalProperties, and Xero's x-is-msdate / x-is-msdate-time (a
 * `/Date(ms±hhmm)/` string). Objects are closed: a property the schema does not declare is reported, except the
 * `…String` siblings of dates and the response envelope's fields, which Xero sends and the document omits.
 * (ajv is only here as an ESLint dependency, at draft-07 without OpenAPI's `nullable`; js-yaml likewise.)
 */

type Schema = Record<string, unknown>;

export const CONTRACTS_DIR = path.join(contractsDir(), 'xero');

const loadYaml = (file: string): Schema => {
  const yaml = createRequire(__filename)('js-yaml') as { load: (text: string) => unknown };
  return yaml.load(readFileSync(path.join(CONTRACTS_DIR, file), 'utf8')) as Schema;
};

/** Properties Xero sends that its document does not declare. */
const UNDECLARED = new Set(['DateString', 'DueDateString', 'Id', 'Status', 'ProviderName', 'DateTimeUTC']);

const MS_DATE = /^\/Date\(-?\d+([+-]\d{4})?\)\/$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Xero's webhook dates carry no zone ("2025-12-02T00:44:09.923"), as in the document's own examples.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

export class OpenApiDocument {
  constructor(readonly doc: Schema) {}

  static load(file: string): OpenApiDocument {
    return new OpenApiDocument(loadYaml(file));
  }

  /** The schema at a JSON pointer such as `#/components/schemas/Invoices`. */
  resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`Only local $refs are supported: ${ref}`);
    let node: unknown = this.doc;
    for (const part of ref.slice(2).split('/')) {
      node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
      if (node === undefined) throw new Error(`${ref} does not exist`);
    }
    return node as Schema;
  }

  /** The schema of an operation's JSON answer, by path, method and status. */
  responseSchema(pathName: string, method: string, status: string): Schema {
    const operation = (this.resolve(`#/paths/${pathName.replace(/~/g, '~0').replace(/\//g, '~1')}`) as Record<string, Schema>)[method];
    let response = (operation?.responses as Record<string, Schema> | undefined)?.[status];
    if (!response) throw new Error(`${method.toUpperCase()} ${pathName} has no ${status} answer`);
    if (typeof response.$ref === 'string') response = this.resolve(response.$ref);
    const schema = (response.content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
    if (!schema) throw new Error(`${method.toUpperCase()} ${pathName} ${status} has no JSON schema`);
    return schema;
  }

  /** Problems of `value` against `schema` (a schema or a $ref), as `path: problem`; empty when it conforms. */
  validate(schema: Schema | string, value: unknown, at = '$'): string[] {
    const problems: string[] = [];
    this.check(typeof schema === 'string' ? { $ref: schema } : schema, value, at, problems);
    return problems;
  }

  /** `open`: the schema is part of an allOf, whose parts together declare the properties. */
  private check(schema: Schema, value: unknown, at: string, problems: string[], open = false): void {
    if (typeof schema.$ref === 'string') {
      this.check(this.resolve(schema.$ref), value, at, problems, open);
      const rest = Object.fromEntries(Object.entries(schema).filter(([k]) => !['$ref', 'description', 'type'].includes(k)));
      if (Object.keys(rest).length > 0) this.check(rest, value, at, problems, open);
      return;
    }
    if (value === null) {
      if (schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null'))) return;
      if (schema.type !== undefined || schema.properties !== undefined) problems.push(`${at}: null is not allowed`);
      return;
    }
    if (Array.isArray(schema.allOf)) {
      for (const part of schema.allOf as Schema[]) this.check(part, value, at, problems, true);
      if (!open && isObject(value)) {
        const declared = this.declared(schema);
        for (const name of Object.keys(value)) if (!declared.has(name) && !UNDECLARED.has(name) && !/String$/.test(name)) problems.push(`${at}: ${name} is not a property of the schema`);
      }
    }
    if (Array.isArray(schema.anyOf) && !(schema.anyOf as Schema[]).some((s) => this.validate(s, value, at).length === 0)) {
      problems.push(`${at}: matches none of anyOf`);
    }
    if (Array.isArray(schema.oneOf)) {
      const matching = (schema.oneOf as Schema[]).filter((s) => this.validate(s, value, at).length === 0).length;
      if (matching !== 1) problems.push(`${at}: matches ${matching} of oneOf (${JSON.stringify(value)})`);
    }
    if ('const' in schema && value !== schema.const) problems.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type as string[] : [schema.type as string];
    if (types.length > 0 && !types.some((t) => hasType(t, value))) {
      problems.push(`${at}: expected ${types.join('|')}, got ${Array.isArray(value) ? 'array' : typeof value}`);
      return;
    }
    if (typeof value === 'string') {
      if ((schema['x-is-msdate'] === true || schema['x-is-msdate-time'] === true) && !MS_DATE.test(value)) problems.push(`${at}: ${value} is not a /Date(…)/ date`);
      if (schema.format === 'uuid' && !UUID.test(value)) problems.push(`${at}: ${value} is not a uuid`);
      if (schema.format === 'date-time' && !DATE_TIME.test(value)) problems.push(`${at}: ${value} is not a date-time`);
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    }
    if (typeof value === 'number') {
      if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: ${value} < ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: ${value} > ${schema.maximum}`);
    }
    // Within an allOf part, nested objects stay open too: another part may narrow them (as CreditNoteWebhookEvent does).
    if (Array.isArray(value) && schema.items) value.forEach((item, i) => this.check(schema.items as Schema, item, `${at}[${i}]`, problems, open));
    if (isObject(value) && (schema.properties || schema.required || schema.additionalProperties !== undefined)) {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const name of (schema.required ?? []) as string[]) if (!(name in value)) problems.push(`${at}: ${name} is required`);
      for (const [name, item] of Object.entries(value)) {
        const property = properties[name];
        if (property) this.check(property, item, `${at}.${name}`, problems, open);
        else if (isObject(schema.additionalProperties)) this.check(schema.additionalProperties, item, `${at}.${name}`, problems, open);
        else if (schema.additionalProperties === false || (!open && !Array.isArray(schema.allOf) && !UNDECLARED.has(name) && !/String$/.test(name))) {
          problems.push(`${at}: ${name} is not a property of the schema`);
        }
      }
    }
  }

  /** The properties a schema declares, with those of its allOf parts. */
  private declared(schema: Schema): Set<string> {
    const resolved = typeof schema.$ref === 'string' ? this.resolve(schema.$ref) : schema;
    const names = new Set(isObject(resolved.properties) ? Object.keys(resolved.properties) : []);
    for (const part of (Array.isArray(resolved.allOf) ? resolved.allOf : []) as Schema[]) for (const name of this.declared(part)) names.add(name);
    return names;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const hasType = (type: string, value: unknown): boolean => {
  switch (type) {
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'integer': return Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'array': return Array.isArray(value);
    case 'object': return isObject(value);
    case 'null': return value === null;
    default: return true;
  }
};

let accounting: OpenApiDocument | null = null;
let webhooks: OpenApiDocument | null = null;

/** xero_accounting.yaml (parsed once per test file). */
export const accountingDocument = (): OpenApiDocument => (accounting ??= OpenApiDocument.load('xero_accounting.yaml'));
/** xero-webhooks.yaml. */
export const webhooksDocument = (): OpenApiDocument => (webhooks ??= OpenApiDocument.load('xero-webhooks.yaml'));

/** The OpenAPI path of a request to the fake (`/Invoices/{InvoiceID}` for one invoice). */
export const operationPath = (requestPath: string): string => {
  const rest = requestPath.replace(/^\/api\.xro\/2\.0/, '');
  return /^\/Invoices\/[^/]+$/.test(rest) ? '/Invoices/{InvoiceID}' : rest;
};

/** Problems of one answer of the fake against the document: 200s by their operation, 400s by Xero's Error. */
export const answerProblems = (requestPath: string, status: number, body: unknown): string[] => {
  const doc = accountingDocument();
  if (status === 200) return doc.validate(doc.responseSchema(operationPath(requestPath), 'get', '200'), body);
  if (status === 400) return doc.validate('#/components/schemas/Error', body);
  return [];
};
