import type { AttrPath, CompValue, Filter } from './filter.ts';
import { printAttrPath } from './filter.ts';
import { resolveAttr, type AttrDef, type ResolvedAttr, type ResourceTypeDef } from './schemas.ts';
import { ScimError } from './scim-error.ts';

/**
 * Filters checked against a resource type's schemas, and evaluated in memory over SCIM JSON (Groups — three
 * of them — and the value filters of PATCH paths; Users are filtered in SQL, filter-sql.ts, after the same check).
 */

/** A path inside a value filter names a sub-attribute of the attribute the filter is on. */
export interface ValueContext {
  parent: ResolvedAttr;
}

/** The attribute a filter path names, or 400 invalidFilter. */
export function resolveFilterPath(type: ResourceTypeDef, path: AttrPath, context?: ValueContext): ResolvedAttr & { leaf: AttrDef } {
  if (context) {
    if (path.uri !== undefined || path.sub !== undefined) {
      // `emails[type eq "work"]`: inside the brackets only the sub-attribute's name.
      const full = resolveAttr(type, path);
      if (!full || full.def !== context.parent.def || !full.sub) throw new ScimError(400, `${printAttrPath(path)} is not a sub-attribute of ${context.parent.def.name}`, 'invalidFilter');
      return { ...full, leaf: full.sub };
    }
    const sub = context.parent.def.subAttributes?.find((a) => a.name.toLowerCase() === path.attr.toLowerCase());
    if (!sub) throw new ScimError(400, `${context.parent.def.name} has no sub-attribute ${path.attr}`, 'invalidFilter');
    return { ...context.parent, sub, leaf: sub };
  }
  const found = resolveAttr(type, path);
  if (!found) throw new ScimError(400, `no attribute ${printAttrPath(path)} on ${type.id}`, 'invalidFilter');
  if (!found.sub && found.def.type === 'complex') {
    // `emails eq "x"` or `manager eq "E1"` compares the value sub-attribute (RFC 7644 §3.4.2.2).
    const value = found.def.subAttributes?.find((a) => a.name === 'value' || a.name === 'formatted');
    if (!value) throw new ScimError(400, `${printAttrPath(path)} is complex: name one of its sub-attributes`, 'invalidFilter');
    return { ...found, sub: value, leaf: value };
  }
  return { ...found, leaf: found.sub ?? found.def };
}

/** Checks every path and operator of `filter` against `type` (400 invalidFilter); returns it. */
export function checkFilter(type: ResourceTypeDef, filter: Filter, context?: ValueContext): Filter {
  switch (filter.op) {
    case 'and':
    case 'or':
      checkFilter(type, filter.left, context);
      checkFilter(type, filter.right, context);
      return filter;
    case 'not':
      checkFilter(type, filter.filter, context);
      return filter;
    case 'valuePath': {
      const found = resolveAttr(type, filter.path);
      if (!found || found.def.type !== 'complex') throw new ScimError(400, `${printAttrPath(filter.path)} is not a complex attribute a value filter can apply to`, 'invalidFilter');
      checkFilter(type, filter.filter, { parent: found });
      return filter;
    }
    case 'pr':
      resolveFilterPath(type, filter.path, context);
      return filter;
    default: {
      const { leaf } = resolveFilterPath(type, filter.path, context);
      checkComparison(leaf, filter.op, filter.value, filter.path);
      return filter;
    }
  }
}

function checkComparison(leaf: AttrDef, op: string, value: CompValue, path: AttrPath): void {
  const where = printAttrPath(path);
  // PostgreSQL text holds neither NUL nor lone surrogates; no attribute has them either.
  if (typeof value === 'string' && (value.includes('\u0000') || !value.isWellFormed())) throw new ScimError(400, `${where}: the value contains a NUL or malformed Unicode`, 'invalidFilter');
  if (value === null) {
    if (op !== 'eq' && op !== 'ne') throw new ScimError(400, `${where} ${op} null: only eq and ne compare with null`, 'invalidFilter');
    return;
  }
  switch (leaf.type) {
    case 'boolean':
      if (op !== 'eq' && op !== 'ne') throw new ScimError(400, `${where} is a boolean: only eq, ne and pr apply`, 'invalidFilter');
      if (typeof value !== 'boolean') throw new ScimError(400, `${where} is a boolean: compare it with true or false`, 'invalidFilter');
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new ScimError(400, `${where} is an integer: compare it with an integer`, 'invalidFilter');
      if (op === 'co' || op === 'sw' || op === 'ew') throw new ScimError(400, `${where} is an integer: ${op} applies to strings`, 'invalidFilter');
      return;
    case 'dateTime':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new ScimError(400, `${where} is a dateTime: compare it with an xsd:dateTime string`, 'invalidFilter');
      if (op === 'co' || op === 'sw' || op === 'ew') throw new ScimError(400, `${where} is a dateTime: ${op} applies to strings`, 'invalidFilter');
      return;
    default:
      if (typeof value !== 'string') throw new ScimError(400, `${where} is a string: compare it with a string in double quotes`, 'invalidFilter');
  }
}

// ── In memory ────────────────────────────────────────────────────────────────────────────────────────

const own = (obj: unknown, key: string): unknown => {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const k = Object.keys(obj).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
};

/** The values a resolved path has on a resource (several for a multi-valued attribute). */
function valuesOf(resource: unknown, r: ResolvedAttr & { leaf: AttrDef }, context?: ValueContext): unknown[] {
  if (context) return [own(resource, r.leaf.name)].flat();
  const container = r.schema && r.schema !== undefined && !isCore(r.schema) ? own(resource, r.schema) : resource;
  const top = own(container, r.def.name);
  if (r.leaf === r.def) return [top].flat();
  return [top].flat().map((e) => own(e, r.leaf.name));
}

const isCore = (schema: string) => schema.endsWith(':core:2.0:User') || schema.endsWith(':core:2.0:Group');

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

function compare(leaf: AttrDef, op: string, actual: unknown, expected: CompValue): boolean {
  if (expected === null) return op === 'eq' ? !present(actual) : present(actual);
  if (actual === undefined || actual === null) return op === 'ne';
  if (leaf.type === 'dateTime') {
    const a = typeof actual === 'string' ? Date.parse(actual) : NaN;
    const b = Date.parse(String(expected));
    return op === 'eq' ? a === b : op === 'ne' ? a !== b : op === 'gt' ? a > b : op === 'ge' ? a >= b : op === 'lt' ? a < b : a <= b;
  }
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return op === 'ne';
    const a = leaf.caseExact ? actual : actual.toLowerCase();
    const b = leaf.caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq':
        return a === b;
      case 'ne':
        return a !== b;
      case 'co':
        return a.includes(b);
      case 'sw':
        return a.startsWith(b);
      case 'ew':
        return a.endsWith(b);
      case 'gt':
        return a > b;
      case 'ge':
        return a >= b;
      case 'lt':
        return a < b;
      default:
        return a <= b;
    }
  }
  if (typeof expected === 'number' && typeof actual === 'number') {
    return op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : op === 'gt' ? actual > expected : op === 'ge' ? actual >= expected : op === 'lt' ? actual < expected : actual <= expected;
  }
  return op === 'eq' ? actual === expected : op === 'ne' ? actual !== expected : false;
}

/** Whether `resource` (SCIM JSON of `type`, or an element of a multi-valued attribute under `context`) matches a checked filter. */
export function matches(type: ResourceTypeDef, filter: Filter, resource: unknown, context?: ValueContext): boolean {
  switch (filter.op) {
    case 'and':
      return matches(type, filter.left, resource, context) && matches(type, filter.right, resource, context);
    case 'or':
      return matches(type, filter.left, resource, context) || matches(type, filter.right, resource, context);
    case 'not':
      return !matches(type, filter.filter, resource, context);
    case 'valuePath': {
      const found = resolveAttr(type, filter.path)!;
      const container = found.schema && !isCore(found.schema) ? own(resource, found.schema) : resource;
      const elements = [own(container, found.def.name)].flat().filter((e) => e !== undefined);
      return elements.some((e) => matches(type, filter.filter, e, { parent: found }));
    }
    case 'pr': {
      const r = resolveFilterPath(type, filter.path, context);
      return valuesOf(resource, r, context).some(present);
    }
    default: {
      const r = resolveFilterPath(type, filter.path, context);
      const values = valuesOf(resource, r, context);
      // A multi-valued attribute matches when any of its values does; `ne` when none is equal.
      if (filter.op === 'ne') return !values.some((v) => compare(r.leaf, 'eq', v, filter.value));
      return values.some((v) => compare(r.leaf, filter.op, v, filter.value));
    }
  }
}
