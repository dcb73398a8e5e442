import { apiError, validationError } from './errors';
import {
  ASSOCIATION_TYPES, OBJECT_TYPES, defaultAssociationType, seedProperties,
  type GroupDef, type ObjectTypeInfo, type ObjectTypeName, type PropertyDef,
} from './schema';

export type HistoryEntry = { value: string; timestamp: string; sourceType: string; sourceId?: string };

export type StoredObject = {
  id: string;
  type: ObjectTypeName;
  values: Map<string, string | null>;
  /** Newest first, per property, as HubSpot lists propertiesWithHistory. */
  history: Map<string, HistoryEntry[]>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
};

export type OwnerDef = {
  id: string; email: string; firstName?: string; lastName?: string; userId?: number;
  createdAt: string; updatedAt: string; archived: boolean;
};

/** Monotonic clock: every call returns a later millisecond than the one before, so each write moves hs_lastmodifieddate. */
export type Clock = { now(): string };

/** Record ids unique across every portal of one fake, so a foreign id never resolves by accident. */
export type IdSource = { next(): string; reserve(id: string): void };

export type ValueError = { name: string; error: string; message: string };

const MAX_STRING = 65_536;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const isCalendarDate = (s: string): boolean => {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
};

/** Milliseconds of a date/datetime value as HubSpot accepts them (epoch ms, ISO date or ISO timestamp); NaN otherwise. */
export const toMillis = (raw: string): number => {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (isCalendarDate(raw)) return Date.parse(`${raw}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : Number.NaN;
};

export class Portal {
  readonly objects = new Map<ObjectTypeName, Map<string, StoredObject>>();
  readonly properties = new Map<ObjectTypeName, Map<string, PropertyDef>>();
  readonly groups = new Map<ObjectTypeName, Map<string, GroupDef>>();
  readonly owners: OwnerDef[] = [];
  /** Arrival times of the calls counted by the ten-secondly limit, and of the search calls. */
  readonly calls: number[] = [];
  readonly searches: number[] = [];
  /** `${type}:${property}` → value → id of the live record holding it, for unique-value properties. */
  private readonly unique = new Map<string, Map<string, string>>();
  /** `${fromType}:${fromId}>${toType}` → toId → association type ids. */
  private readonly links = new Map<string, Map<string, Set<number>>>();

  constructor(readonly id: number, public hubDomain: string, private readonly clock: Clock, private readonly ids: IdSource) {
    const at = clock.now();
    for (const type of Object.values(OBJECT_TYPES)) {
      this.objects.set(type.name, new Map());
      this.properties.set(type.name, new Map(seedProperties(type, at).map((p) => [p.name, p])));
      this.groups.set(type.name, new Map([[type.defaultGroup.name, { ...type.defaultGroup, displayOrder: -1, archived: false }]]));
    }
  }

  now(): string {
    return this.clock.now();
  }

  objectsOf(type: ObjectTypeName): Map<string, StoredObject> {
    return this.objects.get(type) as Map<string, StoredObject>;
  }

  propertiesOf(type: ObjectTypeName): Map<string, PropertyDef> {
    return this.properties.get(type) as Map<string, PropertyDef>;
  }

  groupsOf(type: ObjectTypeName): Map<string, GroupDef> {
    return this.groups.get(type) as Map<string, GroupDef>;
  }

  /** A live (not archived) property definition. */
  property(type: ObjectTypeName, name: string): PropertyDef | undefined {
    const def = this.propertiesOf(type).get(name);
    return def && !def.archived ? def : undefined;
  }

  // ---- values ----

  /**
   * Checks and normalizes property values for a write. `strict` (API writes) also refuses read-only values and
   * values outside an enumeration's options; the test helpers only check that the properties exist.
   */
  normalize(type: ObjectTypeInfo, input: unknown, strict: boolean): { values: Record<string, string | null>; errors: ValueError[] } {
    const values: Record<string, string | null> = {};
    const errors: ValueError[] = [];
    if (input === undefined || input === null) return { values, errors };
    if (typeof input !== 'object' || Array.isArray(input)) {
      errors.push({ name: 'properties', error: 'INVALID_INPUT', message: 'properties must be an object of property names to values' });
      return { values, errors };
    }
    for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
      const def = this.property(type.name, name);
      const fail = (error: string, message: string): void => {
        errors.push({ name, error, message });
      };
      if (!def) {
        fail('PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
        continue;
      }
      if (strict && def.readOnlyValue) {
        fail('READ_ONLY_VALUE', `Property "${name}" is a read only property; its value cannot be set`);
        continue;
      }
      if (raw === null || raw === undefined || raw === '') {
        values[name] = null;
        continue;
      }
      if (typeof raw === 'object') {
        fail('INVALID_INPUT', `${JSON.stringify(raw)} is not a valid value for "${name}"`);
        continue;
      }
      const value = String(raw);
      // Since 2025 HubSpot refuses non-string values with leading or trailing whitespace instead of trimming them.
      if (def.type !== 'string' && value !== value.trim()) {
        fail('LEADING_TRAILING_WHITESPACE', `"${value}" includes leading or trailing whitespace.`);
        continue;
      }
      switch (def.type) {
        case 'number':
          // Kept as written: "1200.50" reads back as "1200.50".
          if (NUMBER_RE.test(value) && Number.isFinite(Number(value))) values[name] = value;
          else fail('INVALID_DECIMAL', `${JSON.stringify(value)} was not a valid number`);
          break;
        case 'bool':
          if (/^(true|false)$/i.test(value)) values[name] = value.toLowerCase();
          else fail('INVALID_BOOLEAN', `${JSON.stringify(value)} was not a valid boolean (true or false)`);
          break;
        case 'date': {
          const ms = toMillis(value);
          if (Number.isNaN(ms)) fail('INVALID_DATE', `${JSON.stringify(value)} was not a valid date (YYYY-MM-DD or epoch milliseconds at midnight UTC)`);
          else if (ms % 86_400_000 !== 0) fail('INVALID_DATE', `${JSON.stringify(value)} is not at midnight UTC`);
          else values[name] = new Date(ms).toISOString().slice(0, 10);
          break;
        }
        case 'datetime': {
          const ms = toMillis(value);
          if (Number.isNaN(ms)) fail('INVALID_DATETIME', `${JSON.stringify(value)} was not a valid datetime (ISO 8601 or epoch milliseconds)`);
          else values[name] = new Date(ms).toISOString();
          break;
        }
        case 'enumeration': {
          if (!strict) {
            values[name] = value;
            break;
          }
          const allowed = def.externalOptions && name === 'hubspot_owner_id'
            ? this.owners.filter((o) => !o.archived).map((o) => o.id)
            : def.options.map((o) => o.value);
          const picked = def.fieldType === 'checkbox' ? value.split(';').filter((v) => v !== '') : [value];
          const bad = picked.find((v) => !allowed.includes(v));
          if (bad === undefined) values[name] = picked.join(';');
          else fail('INVALID_OPTION', `${bad} was not one of the allowed options: [${allowed.join(', ')}]`);
          break;
        }
        default:
          if (value.length > MAX_STRING) fail('INVALID_LENGTH', `Property "${name}" is longer than ${MAX_STRING} characters`);
          else values[name] = value;
      }
    }
    return { values, errors };
  }

  /** The 400 HubSpot answers when property values are not valid (message and errors both name each property). */
  valueErrors(errors: ValueError[]): Error {
    const detail = errors.map((e) => ({
      isValid: false, message: e.message, error: e.error, name: e.name, localizedErrorMessage: e.message, portalId: this.id,
    }));
    return validationError(`Property values were not valid: ${JSON.stringify(detail)}`, {
      errors: errors.map((e) => ({ message: e.message, code: e.error, context: { propertyName: [e.name] } })),
    });
  }

  /** Normalized values, or the 400 listing every bad one. */
  checkedValues(type: ObjectTypeInfo, input: unknown, opts: { create: boolean }): Record<string, string | null> {
    const { values, errors } = this.normalize(type, input, true);
    if (opts.create) {
      for (const name of type.requiredOnCreate) {
        if (values[name] === undefined || values[name] === null) {
          errors.push({ name, error: 'REQUIRED_PROPERTY', message: `Property "${name}" is required when creating a ${type.singular}` });
        }
      }
    }
    if (errors.length > 0) throw this.valueErrors(errors);
    return values;
  }

  /**
   * HubSpot refuses a value of a unique property that another live record already holds (409 CONFLICT). `claimed`
   * carries the values taken by earlier inputs of the same batch, `claimant` names this input.
   */
  checkUnique(type: ObjectTypeInfo, values: Record<string, string | null>, selfId: string | null,
    claimed?: Map<string, string>, claimant = selfId ?? ''): void {
    for (const [name, value] of Object.entries(values)) {
      if (value === null || !this.property(type.name, name)?.hasUniqueValue) continue;
      const existing = this.findBy(type.name, name, value);
      const key = `${name}=${value}`;
      const prior = claimed?.get(key);
      if (existing && existing.id !== selfId) {
        throw apiError(409, 'CONFLICT', `A ${type.singular} with ${name} "${value}" already exists. Existing ID: ${existing.id}`);
      }
      if (prior !== undefined && prior !== claimant) {
        throw apiError(409, 'CONFLICT', `Two inputs of this batch set ${name} to "${value}"; ${name} has unique values`);
      }
      claimed?.set(key, claimant);
    }
  }

  // ---- records ----

  createObject(type: ObjectTypeInfo, values: Record<string, string | null>, opts: { id?: string; sourceType?: string } = {}): StoredObject {
    const id = opts.id ?? this.ids.next();
    if (opts.id !== undefined) this.ids.reserve(opts.id);
    const at = this.now();
    const created = values[type.createdProperty] ?? at;
    const obj: StoredObject = {
      id, type: type.name, values: new Map(), history: new Map(), createdAt: created, updatedAt: at, archived: false,
    };
    this.objectsOf(type.name).set(id, obj);
    this.write(obj, { ...values, [type.createdProperty]: created, hs_object_id: id }, opts.sourceType ?? 'API', at);
    return obj;
  }

  /** Applies values; when one differs, moves updatedAt and hs_lastmodifieddate. Returns whether anything changed. */
  update(obj: StoredObject, values: Record<string, string | null>, sourceType = 'API'): boolean {
    return this.write(obj, values, sourceType, null);
  }

  private write(obj: StoredObject, values: Record<string, string | null>, sourceType: string, at: string | null): boolean {
    const changes = Object.entries(values).filter(([name, value]) => (obj.values.get(name) ?? null) !== value);
    if (changes.length === 0 && at === null) return false;
    const stamp = at ?? this.now();
    const type = OBJECT_TYPES[obj.type];
    for (const [name, value] of [...changes, ...['hs_lastmodifieddate', ...type.modifiedAliases].map((n) => [n, stamp] as const)]) {
      this.reindex(obj, name, obj.values.get(name) ?? null, value);
      obj.values.set(name, value);
      const entries = obj.history.get(name) ?? [];
      entries.unshift({ value: value ?? '', timestamp: stamp, sourceType });
      obj.history.set(name, entries);
    }
    obj.updatedAt = stamp;
    return true;
  }

  archive(obj: StoredObject): void {
    if (obj.archived) return;
    for (const [name, value] of obj.values) this.reindex(obj, name, value, null);
    obj.archived = true;
    obj.archivedAt = this.now();
  }

  /** A record by id (or by a unique property's value with idProperty); archived ones only when asked. */
  find(type: ObjectTypeName, id: string, opts: { idProperty?: string; archived?: boolean } = {}): StoredObject | undefined {
    const idProperty = opts.idProperty && opts.idProperty !== 'hs_object_id' ? opts.idProperty : undefined;
    const obj = idProperty ? this.findBy(type, idProperty, id, opts.archived) : this.objectsOf(type).get(id);
    return obj && obj.archived === (opts.archived ?? false) ? obj : undefined;
  }

  private findBy(type: ObjectTypeName, property: string, value: string, archived = false): StoredObject | undefined {
    if (!archived && this.property(type, property)?.hasUniqueValue) {
      const id = this.unique.get(`${type}:${property}`)?.get(value);
      return id === undefined ? undefined : this.objectsOf(type).get(id);
    }
    for (const obj of this.objectsOf(type).values()) {
      if (obj.archived === archived && obj.values.get(property) === value) return obj;
    }
    return undefined;
  }

  /** Keeps the value → id index of unique properties (live records only) in step with a write. */
  private reindex(obj: StoredObject, name: string, before: string | null, after: string | null): void {
    if (before === after || !this.property(obj.type, name)?.hasUniqueValue) return;
    const key = `${obj.type}:${name}`;
    const index = this.unique.get(key) ?? new Map<string, string>();
    this.unique.set(key, index);
    if (before !== null && index.get(before) === obj.id) index.delete(before);
    if (after !== null) index.set(after, obj.id);
  }

  /** A unique-value property usable as idProperty, or the 400 HubSpot gives for any other. */
  uniqueProperty(type: ObjectTypeInfo, name: string): string {
    if (!this.property(type.name, name)?.hasUniqueValue) {
      throw validationError(`Unable to perform update/upsert by non-unique ${type.objectTypeId} property ${name} in portal ID ${this.id}`);
    }
    return name;
  }

  // ---- associations ----

  private linkMap(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, create: boolean): Map<string, Set<number>> | undefined {
    const key = `${fromType}:${fromId}>${toType}`;
    let map = this.links.get(key);
    if (!map && create) {
      map = new Map();
      this.links.set(key, map);
    }
    return map;
  }

  /**
   * Stores an association both ways (the type and its reverse). A labelled type also brings the pair's default
   * (unlabeled) type, and a record has one primary at most: a new primary replaces the old. Returns whether it was new.
   */
  associate(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string, typeId: number): boolean {
    const def = ASSOCIATION_TYPES.get(typeId);
    if (!def || def.from !== fromType || def.to !== toType) {
      throw validationError(`association type id ${typeId} is not valid for ${OBJECT_TYPES[fromType].singular} to ${OBJECT_TYPES[toType].singular}`);
    }
    const forward = this.linkMap(fromType, fromId, toType, true) as Map<string, Set<number>>;
    if (def.label === 'Primary') {
      for (const [otherId, types] of forward) {
        if (otherId !== toId && types.delete(typeId)) this.linkMap(toType, otherId, fromType, false)?.get(fromId)?.delete(def.reverse);
      }
    }
    const types = forward.get(toId) ?? new Set<number>();
    const isNew = !types.has(typeId);
    types.add(typeId);
    forward.set(toId, types);
    const backward = this.linkMap(toType, toId, fromType, true) as Map<string, Set<number>>;
    const reverse = backward.get(fromId) ?? new Set<number>();
    reverse.add(def.reverse);
    backward.set(fromId, reverse);
    const unlabeled = def.label === null ? undefined : defaultAssociationType(fromType, toType);
    if (unlabeled) this.associate(fromType, fromId, toType, toId, unlabeled.typeId);
    return isNew;
  }

  /** Removes every association type between two records, both ways. */
  unassociate(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName, toId: string): void {
    this.linkMap(fromType, fromId, toType, false)?.delete(toId);
    this.linkMap(toType, toId, fromType, false)?.delete(fromId);
  }

  /** Live associated records of one type, by ascending id, with their type ids. */
  associations(fromType: ObjectTypeName, fromId: string, toType: ObjectTypeName): Array<{ toId: string; typeIds: number[] }> {
    const map = this.linkMap(fromType, fromId, toType, false);
    if (!map) return [];
    const live = this.objectsOf(toType);
    return [...map.entries()]
      .filter(([toId, types]) => types.size > 0 && live.get(toId)?.archived === false)
      .map(([toId, types]) => ({ toId, typeIds: [...types].sort((a, b) => a - b) }))
      .sort((a, b) => compareIds(a.toId, b.toId));
  }

}

/** Numeric ids in numeric order; anything else after, by string. */
export const compareIds = (a: string, b: string): number => {
  const na = /^\d+$/.test(a) ? BigInt(a) : null;
  const nb = /^\d+$/.test(b) ? BigInt(b) : null;
  if (na !== null && nb !== null) return na < nb ? -1 : na > nb ? 1 : 0;
  if (na !== null) return -1;
  if (nb !== null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
};
