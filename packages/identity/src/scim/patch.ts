import { parsePatchPath, printAttrPath, ScimSyntaxError, type PatchPath } from './filter.ts';
import { checkFilter, matches } from './evaluate.ts';
import { MAX_PATCH_OPERATIONS, resolveAttr, SCIM, wholeSchemaOf, type AttrDef, type ResolvedAttr, type ResourceTypeDef } from './schemas.ts';
import { ScimError } from './scim-error.ts';
import { member, type ScimJson } from './user.ts';

/**
 * PATCH (RFC 7644 §3.5.2) on a resource's SCIM JSON, in memory: every operation is applied to a copy, in
 * order; the caller writes the result only when all of them succeeded — a request is all or nothing.
 */

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: PatchPath | undefined;
  value: unknown;
}

/** The body of a PATCH request, checked: the PatchOp schema, 1-100 operations, each with a known op and a parsable path. */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'the body must be a JSON object (a PatchOp)', 'invalidSyntax');
  const schemas = member(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM.patch.toLowerCase())) throw new ScimError(400, `schemas must be ["${SCIM.patch}"]`, 'invalidValue');
  const ops = member(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw new ScimError(400, 'Operations must be a non-empty array', 'invalidValue');
  if (ops.length > MAX_PATCH_OPERATIONS) throw new ScimError(400, `more than ${MAX_PATCH_OPERATIONS} operations in one request`, 'tooMany');
  return ops.map((o, i) => {
    const op = member(o, 'op');
    if (typeof op !== 'string' || !['add', 'replace', 'remove'].includes(op.toLowerCase())) throw new ScimError(400, `Operations[${i}].op must be add, replace or remove`, 'invalidValue');
    const rawPath = member(o, 'path');
    let path: PatchPath | undefined;
    if (rawPath !== undefined && rawPath !== null && rawPath !== '') {
      if (typeof rawPath !== 'string') throw new ScimError(400, `Operations[${i}].path must be a string`, 'invalidPath');
      try {
        path = parsePatchPath(rawPath);
      } catch (err) {
        if (err instanceof ScimSyntaxError) throw new ScimError(400, `Operations[${i}].path: ${err.message} (at ${err.position})`, 'invalidPath');
        throw err;
      }
    }
    const value = member(o, 'value');
    const kind = op.toLowerCase() as PatchOperation['op'];
    if (kind === 'remove' && !path) throw new ScimError(400, `Operations[${i}]: remove needs a path`, 'noTarget');
    if (kind !== 'remove' && value === undefined) throw new ScimError(400, `Operations[${i}]: ${kind} needs a value`, 'invalidValue');
    return { op: kind, path, value };
  });
}

const isObject = (v: unknown): v is ScimJson => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The key an object already uses for `name` (case-insensitively), or the canonical name. */
function keyOf(obj: ScimJson, name: string): string {
  return Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
}

function readOnly(def: AttrDef, sub?: AttrDef): boolean {
  return def.mutability === 'readOnly' || sub?.mutability === 'readOnly';
}

/** Merges sub-attributes of `value` into `target` (replace of a complex attribute keeps the ones not named). */
function mergeInto(target: ScimJson, value: ScimJson): ScimJson {
  const out = { ...target };
  for (const [k, v] of Object.entries(value)) out[keyOf(out, k)] = v;
  return out;
}

/**
 * Applies `operations` to a copy of `resource`. `immutable` lists attributes (lower case) that may be
 * written only with their current value (e.g. employeeNumber); read-only ones (id, meta, groups) are refused.
 */
export function applyPatch(type: ResourceTypeDef, resource: ScimJson, operations: readonly PatchOperation[]): ScimJson {
  let doc = structuredClone(resource);
  operations.forEach((o, i) => {
    try {
      doc = o.path ? applyWithPath(type, doc, o) : applyWithoutPath(type, doc, o);
    } catch (err) {
      if (err instanceof ScimError) throw new ScimError(err.status, `Operations[${i}]: ${err.message}`, err.scimType);
      throw err;
    }
  });
  return doc;
}

/** No path: the value is an object of attributes (keys may carry their schema's URN) to add or replace. */
function applyWithoutPath(type: ResourceTypeDef, doc: ScimJson, o: PatchOperation): ScimJson {
  if (!isObject(o.value)) throw new ScimError(400, `${o.op} without a path needs an object of attributes as its value`, 'invalidValue');
  let out = doc;
  for (const [key, v] of Object.entries(o.value)) {
    if (key.toLowerCase() === 'schemas') continue;
    const extension = type.extensions.find((e) => e.toLowerCase() === key.toLowerCase());
    if (extension) {
      // `{"urn:…:enterprise:2.0:User": {"department": "x"}}`: each of its attributes, in its schema.
      if (!isObject(v)) throw new ScimError(400, `${key} must be an object`, 'invalidValue');
      for (const [k, x] of Object.entries(v)) out = applyWithPath(type, out, { op: o.op, path: { path: { uri: extension, attr: k } }, value: x });
      continue;
    }
    let path: PatchPath;
    try {
      path = parsePatchPath(key);
    } catch {
      throw new ScimError(400, `${JSON.stringify(key.slice(0, 100))} is not an attribute`, 'invalidPath');
    }
    if (path.filter) throw new ScimError(400, `${key}: a value filter belongs in a path`, 'invalidPath');
    out = applyWithPath(type, out, { op: o.op, path, value: v });
  }
  return out;
}

function applyWithPath(type: ResourceTypeDef, doc: ScimJson, o: PatchOperation): ScimJson {
  const p = o.path!;
  const whole = wholeSchemaOf(type, p.path);
  if (whole) {
    // The whole extension: its attributes one by one (remove: all of them).
    if (o.op === 'remove') return { ...doc, [keyOf(doc, whole)]: {} };
    return applyWithoutPath(type, doc, { op: o.op, path: undefined, value: { [whole]: o.value } });
  }
  const found = resolveAttr(type, p.path);
  if (!found) throw new ScimError(400, `no attribute ${printAttrPath(p.path)} on ${type.id}`, 'invalidPath');
  const sub = p.sub !== undefined ? found.def.subAttributes?.find((a) => a.name.toLowerCase() === p.sub!.toLowerCase()) : found.sub;
  if (p.sub !== undefined && !sub) throw new ScimError(400, `${found.def.name} has no sub-attribute ${p.sub}`, 'invalidPath');
  if (p.filter && !found.def.multiValued) throw new ScimError(400, `${found.def.name} is not multi-valued: a value filter does not apply`, 'invalidPath');
  if (readOnly(found.def, sub)) throw new ScimError(400, `${printAttrPath(p.path)} is read-only`, 'mutability');

  // The object holding the attribute: the resource, or its extension's object.
  const inExtension = found.schema !== undefined && found.schema !== type.schema;
  const container: ScimJson = inExtension ? { ...(isObject(member(doc, found.schema!)) ? (member(doc, found.schema!) as ScimJson) : {}) } : { ...doc };
  const key = keyOf(container, found.def.name);
  const current = container[key];
  const next = change(type, found, sub, p, o, current);
  if (next === undefined) delete container[key];
  else container[key] = next;
  return inExtension ? { ...doc, [keyOf(doc, found.schema!)]: container } : container;
}

/** The attribute's new value (undefined: removed). */
function change(type: ResourceTypeDef, found: ResolvedAttr, sub: AttrDef | undefined, p: PatchPath, o: PatchOperation, current: unknown): unknown {
  const def = found.def;
  if (def.multiValued) {
    const list = Array.isArray(current) ? [...(current as unknown[])] : current === undefined || current === null ? [] : [current];
    if (p.filter) {
      const filter = checkFilterOrInvalidPath(type, p);
      const hit = (e: unknown) => matches(type, filter, e, { parent: found });
      const any = list.some(hit);
      if (o.op === 'remove') {
        // Removing what is not there changes nothing (a repeated removal succeeds).
        if (!sub) return emptyToUndefined(list.filter((e) => !hit(e)));
        return list.map((e) => (hit(e) && isObject(e) ? withoutKey(e, sub.name) : e));
      }
      if (!any) throw new ScimError(400, `no value of ${def.name} matches the filter`, 'noTarget');
      if (o.op === 'add' && !sub) throw new ScimError(400, 'add with a value filter needs a sub-attribute in the path', 'invalidPath');
      return list.map((e) => {
        if (!hit(e)) return e;
        if (sub) return { ...(isObject(e) ? e : {}), [sub.name]: o.value };
        if (!isObject(o.value)) throw new ScimError(400, `the value must be an object (a value of ${def.name})`, 'invalidValue');
        return o.op === 'replace' ? mergeInto(isObject(e) ? e : {}, o.value) : e;
      });
    }
    if (sub) {
      // `emails.value`: the sub-attribute of every value.
      if (o.op === 'remove') return list.map((e) => (isObject(e) ? withoutKey(e, sub.name) : e));
      return list.map((e) => ({ ...(isObject(e) ? e : {}), [sub.name]: o.value }));
    }
    if (o.op === 'remove') {
      // `{"op":"remove","path":"members","value":[{"value":"E1"}]}` (Microsoft Entra ID's way): remove those values only.
      if (Array.isArray(o.value)) {
        const gone = new Set(o.value.map((v) => String(member(v, 'value'))));
        return emptyToUndefined(list.filter((e) => !gone.has(String(member(e, 'value')))));
      }
      return undefined;
    }
    const values: unknown[] = Array.isArray(o.value) ? (o.value as unknown[]) : [o.value];
    if (o.op === 'replace') return values;
    // add: new values join; a value already there (same `value`) is not added twice. A new primary value makes
    // the others non-primary (RFC 7644 §3.5.2: primary is true on one value at most).
    const have = new Set(list.map((e) => JSON.stringify(member(e, 'value') ?? e)));
    const kept = values.some(isPrimary) ? list.map((e) => (isObject(e) ? { ...withoutKey(e, 'primary'), primary: false } : e)) : list;
    return [...kept, ...values.filter((v) => !have.has(JSON.stringify(member(v, 'value') ?? v)))];
  }
  if (sub) {
    const obj = isObject(current) ? current : {};
    if (o.op === 'remove') return emptyObjectToUndefined(withoutKey(obj, sub.name));
    return { ...obj, [keyOf(obj, sub.name)]: o.value };
  }
  if (o.op === 'remove') return undefined;
  if (def.type === 'complex' && isObject(o.value) && isObject(current)) return mergeInto(current, o.value);
  return o.value;
}

function checkFilterOrInvalidPath(type: ResourceTypeDef, p: PatchPath) {
  try {
    const found = resolveAttr(type, p.path)!;
    return checkFilter(type, p.filter!, { parent: found });
  } catch (err) {
    if (err instanceof ScimError) throw new ScimError(400, err.message, 'invalidPath');
    throw err;
  }
}

const isPrimary = (v: unknown) => {
  const p = member(v, 'primary');
  return p === true || (typeof p === 'string' && p.toLowerCase() === 'true');
};

function withoutKey(obj: ScimJson, name: string): ScimJson {
  const out: ScimJson = {};
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() !== name.toLowerCase()) out[k] = v;
  return out;
}
const emptyToUndefined = (list: unknown[]) => (list.length ? list : undefined);
const emptyObjectToUndefined = (obj: ScimJson) => (Object.keys(obj).length ? obj : undefined);
