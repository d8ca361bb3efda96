import { sql, type RawBuilder } from 'kysely';
import type { CompValue, Filter } from './filter.ts';
import { printAttrPath } from './filter.ts';
import { checkFilter, resolveFilterPath, type ValueContext } from './evaluate.ts';
import { RESOURCE_TYPES, resolveAttr, type AttrDef, type AttrType, type ResolvedAttr } from './schemas.ts';
import { ScimError } from './scim-error.ts';

/**
 * A checked SCIM filter on Users as a SQL condition over `identity.people p`. Every value the caller wrote is a
 * bound parameter; the only SQL text here is this file's own (column names from the table below). Three-valued
 * logic is closed at each comparison (coalesce … false), so `not (title eq "x")` matches people without a title,
 * as the in-memory evaluator does (the property test holds the two to the same answers).
 */

export const USER_TYPE = RESOURCE_TYPES.find((t) => t.id === 'User')!;

type Sql = RawBuilder<unknown>;

/** Where an attribute lives: a column of the person's row, a constant, or the rows of role_assignments. */
type Column =
  | { kind: 'column'; expr: Sql; type: AttrType; caseExact: boolean; multi?: 'array' }
  | { kind: 'roles'; sub: 'value' | 'display' };

const col = (expr: Sql, type: AttrType, caseExact = false, multi?: 'array'): Column => ({ kind: 'column', expr, type, caseExact, ...(multi ? { multi } : {}) });
const workOnlyWith = (present: Sql, value: Sql) => sql`CASE WHEN ${present} IS NULL THEN NULL ELSE ${value} END`;

/** schema|attribute|sub-attribute (lower case) → where it is. Anything else is not filterable. */
const COLUMNS: Record<string, Column> = {
  '|id|id': col(sql`p.id`, 'string', true),
  '|externalid|externalid': col(sql`p.external_id`, 'string', true),
  '|meta|resourcetype': col(sql`'User'::text`, 'string', true),
  '|meta|created': col(sql`p.created_at`, 'dateTime'),
  '|meta|lastmodified': col(sql`p.updated_at`, 'dateTime'),
  'user|username|username': col(sql`p.user_name`, 'string'),
  'user|name|formatted': col(sql`p.name`, 'string'),
  'user|displayname|displayname': col(sql`p.name`, 'string'),
  'user|title|title': col(sql`p.title`, 'string'),
  'user|timezone|timezone': col(sql`p.timezone`, 'string'),
  'user|active|active': col(sql`p.active`, 'boolean'),
  'user|emails|value': col(sql`p.email`, 'string'),
  'user|emails|type': col(sql`'work'::text`, 'string'),
  'user|emails|primary': col(sql`true`, 'boolean'),
  'user|addresses|locality': col(sql`p.location`, 'string'),
  'user|addresses|formatted': col(sql`p.location`, 'string'),
  'user|addresses|type': col(workOnlyWith(sql`p.location`, sql`'work'::text`), 'string'),
  'user|addresses|primary': col(workOnlyWith(sql`p.location`, sql`true`), 'boolean'),
  'user|groups|value': { kind: 'roles', sub: 'value' },
  'user|groups|display': { kind: 'roles', sub: 'display' },
  'enterprise|department|department': col(sql`p.department`, 'string'),
  'enterprise|employeenumber|employeenumber': col(sql`p.id`, 'string', true),
  'enterprise|manager|value': col(sql`p.manager_id`, 'string', true),
  'enterprise|manager|displayname': col(sql`(SELECT m.name FROM identity.people m WHERE m.id = p.manager_id)`, 'string'),
  'ems|hrpartner|value': col(sql`p.hr_partner_id`, 'string', true),
  'ems|hrpartner|displayname': col(sql`(SELECT h.name FROM identity.people h WHERE h.id = p.hr_partner_id)`, 'string'),
  'ems|workingdays|workingdays': col(sql`p.work_days`, 'integer', true, 'array'),
  'ems|workstart|workstart': col(sql`p.work_start`, 'string'),
  'ems|workend|workend': col(sql`p.work_end`, 'string'),
};

const schemaKey = (schema: string | undefined) =>
  schema === undefined ? '' : schema.endsWith(':core:2.0:User') ? 'user' : schema.includes(':enterprise:') ? 'enterprise' : schema.startsWith('urn:ems:') ? 'ems' : schema;

function columnOf(r: ResolvedAttr & { leaf: AttrDef }, where: string): Column {
  const found = COLUMNS[`${schemaKey(r.schema)}|${r.def.name.toLowerCase()}|${r.leaf.name.toLowerCase()}`];
  if (!found) throw new ScimError(400, `${where} cannot be filtered on`, 'invalidFilter');
  return found;
}

/** A bound parameter of the column's type (values were type-checked by checkFilter). */
function param(type: AttrType, value: Exclude<CompValue, null>): Sql {
  if (type === 'dateTime') return sql`${new Date(String(value)).toISOString()}::timestamptz`;
  if (type === 'integer') return sql`${String(value)}::numeric`;
  if (type === 'boolean') return sql`${value === true}::boolean`;
  return sql`${String(value)}::text`;
}

/** One comparison of a single value expression, NULL closed to false. */
function compareSql(expr: Sql, type: AttrType, caseExact: boolean, op: string, value: CompValue): Sql {
  const isText = type === 'string' || type === 'reference';
  if (value === null) {
    const absent = isText ? sql`(${expr} IS NULL OR ${expr} = '')` : sql`(${expr} IS NULL)`;
    return op === 'eq' ? absent : sql`NOT ${absent}`;
  }
  const ci = isText && !caseExact;
  const a = ci ? sql`lower(${expr})` : expr;
  const b = ci ? sql`lower(${param(type, value)})` : param(type, value);
  const c = isText ? sql`COLLATE "C"` : sql``;
  let cond: Sql;
  switch (op) {
    case 'eq':
      cond = sql`${a} = ${b}`;
      break;
    case 'ne':
      return sql`NOT coalesce(${a} = ${b}, false)`;
    case 'co':
      cond = sql`strpos(${a}, ${b}) > 0`;
      break;
    case 'sw':
      cond = sql`starts_with(${a}, ${b})`;
      break;
    case 'ew':
      cond = sql`right(${a}, char_length(${b})) = ${b}`;
      break;
    case 'gt':
      cond = sql`${a} ${c} > ${b}`;
      break;
    case 'ge':
      cond = sql`${a} ${c} >= ${b}`;
      break;
    case 'lt':
      cond = sql`${a} ${c} < ${b}`;
      break;
    default:
      cond = sql`${a} ${c} <= ${b}`;
  }
  return sql`coalesce(${cond}, false)`;
}

function presentSql(column: Column): Sql {
  if (column.kind === 'roles') return sql`EXISTS (SELECT 1 FROM identity.role_assignments r WHERE r.person_id = p.id)`;
  if (column.multi === 'array') return sql`coalesce(cardinality(${column.expr}) > 0, false)`;
  const isText = column.type === 'string' || column.type === 'reference';
  return isText ? sql`coalesce(${column.expr} <> '', false)` : sql`(${column.expr} IS NOT NULL)`;
}

function comparisonSql(column: Column, op: string, value: CompValue): Sql {
  if (column.kind === 'roles') {
    // The role is its group's id and its display name.
    if (op === 'ne') return sql`NOT ${comparisonSql(column, 'eq', value)}`;
    if (value === null) return op === 'eq' ? sql`NOT ${presentSql(column)}` : presentSql(column);
    return sql`EXISTS (SELECT 1 FROM identity.role_assignments r WHERE r.person_id = p.id AND ${compareSql(sql`r.role`, 'string', column.sub === 'value', op, value)})`;
  }
  if (column.multi === 'array') {
    if (op === 'ne') return sql`NOT ${comparisonSql(column, 'eq', value)}`;
    if (value === null) return op === 'eq' ? sql`NOT ${presentSql(column)}` : presentSql(column);
    return sql`EXISTS (SELECT 1 FROM unnest(${column.expr}) AS d(v) WHERE ${compareSql(sql`d.v`, column.type, true, op, value)})`;
  }
  return compareSql(column.expr, column.type, column.caseExact, op, value);
}

function translate(filter: Filter, context?: ValueContext): Sql {
  switch (filter.op) {
    case 'and':
      return sql`(${translate(filter.left, context)} AND ${translate(filter.right, context)})`;
    case 'or':
      return sql`(${translate(filter.left, context)} OR ${translate(filter.right, context)})`;
    case 'not':
      return sql`(NOT ${translate(filter.filter, context)})`;
    case 'valuePath': {
      const parent = resolveAttr(USER_TYPE, filter.path)!;
      if (parent.def.name === 'groups') {
        // Each role is one element: the inner filter over that role's row.
        return sql`EXISTS (SELECT 1 FROM identity.role_assignments r WHERE r.person_id = p.id AND ${translateGroupElement(filter.filter)})`;
      }
      // emails and addresses: at most one element, on the person's own row (addresses only with a location).
      const inner = translate(filter.filter, { parent });
      return parent.def.name === 'addresses' ? sql`(p.location IS NOT NULL AND ${inner})` : inner;
    }
    case 'pr': {
      const r = resolveFilterPath(USER_TYPE, filter.path, context);
      return presentSql(columnOf(r, printAttrPath(filter.path)));
    }
    default: {
      const r = resolveFilterPath(USER_TYPE, filter.path, context);
      return comparisonSql(columnOf(r, printAttrPath(filter.path)), filter.op, filter.value);
    }
  }
}

/** The filter inside `groups[…]`, over one role row `r`. */
function translateGroupElement(filter: Filter): Sql {
  switch (filter.op) {
    case 'and':
      return sql`(${translateGroupElement(filter.left)} AND ${translateGroupElement(filter.right)})`;
    case 'or':
      return sql`(${translateGroupElement(filter.left)} OR ${translateGroupElement(filter.right)})`;
    case 'not':
      return sql`(NOT ${translateGroupElement(filter.filter)})`;
    case 'valuePath':
      throw new ScimError(400, 'a value filter inside another value filter', 'invalidFilter');
    case 'pr': {
      const sub = filter.path.sub ?? filter.path.attr;
      return sub.toLowerCase() === '$ref' ? sql`true` : sql`(r.role IS NOT NULL)`;
    }
    default: {
      const sub = (filter.path.sub ?? filter.path.attr).toLowerCase();
      if (sub !== 'value' && sub !== 'display') throw new ScimError(400, `groups.${sub} cannot be filtered on`, 'invalidFilter');
      return compareSql(sql`r.role`, 'string', sub === 'value', filter.op, filter.value);
    }
  }
}

/** The SQL condition of a Users filter (checked here: 400 invalidFilter for an unknown attribute or a mistyped comparison). */
export function userFilterSql(filter: Filter): Sql {
  checkFilter(USER_TYPE, filter);
  return translate(filter);
}

/** The ORDER BY expression of a Users sortBy (single-valued attributes only). */
export function userSortSql(path: { uri?: string; attr: string; sub?: string }): Sql {
  let r: ReturnType<typeof resolveFilterPath>;
  try {
    r = resolveFilterPath(USER_TYPE, path);
  } catch {
    throw new ScimError(400, `sortBy: no attribute ${printAttrPath(path)} on User`, 'invalidValue');
  }
  const column = COLUMNS[`${schemaKey(r.schema)}|${r.def.name.toLowerCase()}|${r.leaf.name.toLowerCase()}`];
  if (!column || column.kind !== 'column' || column.multi) throw new ScimError(400, `sortBy: ${printAttrPath(path)} cannot be sorted on`, 'invalidValue');
  const isText = column.type === 'string' || column.type === 'reference';
  return isText && !column.caseExact ? sql`lower(${column.expr}) COLLATE "C"` : isText ? sql`${column.expr} COLLATE "C"` : column.expr;
}
