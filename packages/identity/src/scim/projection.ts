import { parseAttrPath, ScimSyntaxError } from './filter.ts';
import { resolveAttr, wholeSchemaOf, type ResourceTypeDef } from './schemas.ts';
import { ScimError } from './scim-error.ts';
import type { ScimJson } from './user.ts';

/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 / §3.9): a comma-separated list of attribute paths.
 * `schemas` and `id` (returned "always") are kept whatever the lists say; names EMS does not know are ignored.
 */

export interface Projection {
  attributes: Target[] | undefined;
  excluded: Target[];
}

interface Target {
  /** The resource's key holding it: an extension's URN, or undefined for the core schema. */
  container: string | undefined;
  /** The attribute (undefined: the whole extension). */
  attr: string | undefined;
  sub: string | undefined;
}

function targets(type: ResourceTypeDef, list: string | undefined, what: string): Target[] | undefined {
  if (list === undefined) return undefined;
  const out: Target[] = [];
  for (const raw of list.split(',')) {
    const text = raw.trim();
    if (!text) continue;
    let path;
    try {
      path = parseAttrPath(text);
    } catch (err) {
      if (err instanceof ScimSyntaxError) throw new ScimError(400, `${what}: ${err.message}`, 'invalidValue');
      throw err;
    }
    const whole = wholeSchemaOf(type, path);
    if (whole) {
      out.push({ container: whole, attr: undefined, sub: undefined });
      continue;
    }
    const found = resolveAttr(type, path);
    if (!found) continue;
    const container = found.schema !== undefined && found.schema !== type.schema ? found.schema : undefined;
    out.push({ container, attr: found.def.name, sub: found.sub?.name });
  }
  return out;
}

export function parseProjection(type: ResourceTypeDef, attributes: string | undefined, excluded: string | undefined): Projection {
  return { attributes: targets(type, attributes, 'attributes'), excluded: targets(type, excluded, 'excludedAttributes') ?? [] };
}

const ALWAYS = new Set(['schemas', 'id']);
const isObject = (v: unknown): v is ScimJson => v !== null && typeof v === 'object' && !Array.isArray(v);

function pick(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) return value.map((e) => (isObject(e) && sub in e ? { [sub]: e[sub] } : {}));
  return isObject(value) && sub in value ? { [sub]: value[sub] } : undefined;
}

function drop(value: unknown, sub: string): unknown {
  const without = (o: ScimJson) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== sub));
  if (Array.isArray(value)) return (value as unknown[]).map((e) => (isObject(e) ? without(e) : e));
  return isObject(value) ? without(value) : value;
}

export function project(resource: ScimJson, p: Projection): ScimJson {
  let out: ScimJson;
  if (p.attributes) {
    out = Object.fromEntries(Object.entries(resource).filter(([k]) => ALWAYS.has(k)));
    for (const t of p.attributes) {
      const src = t.container ? resource[t.container] : resource;
      if (!isObject(src)) continue;
      if (t.attr === undefined) {
        out[t.container!] = src;
        continue;
      }
      if (!(t.attr in src)) continue;
      const value = t.sub ? pick(src[t.attr], t.sub) : src[t.attr];
      if (value === undefined) continue;
      const dst = t.container ? ((out[t.container] as ScimJson | undefined) ?? (out[t.container] = {})) : out;
      const prev = dst[t.attr];
      // Two sub-attributes of one attribute: merged.
      dst[t.attr] = t.sub && isObject(prev) && isObject(value) ? { ...prev, ...value } : t.sub && Array.isArray(prev) && Array.isArray(value) ? prev.map((e, i) => ({ ...(e as ScimJson), ...(value[i] as ScimJson) })) : value;
    }
  } else {
    out = structuredClone(resource);
  }
  for (const t of p.excluded) {
    const dst = t.container ? out[t.container] : out;
    if (!isObject(dst)) continue;
    if (t.attr === undefined) {
      delete out[t.container!];
      continue;
    }
    if (ALWAYS.has(t.attr) && !t.container) continue;
    if (t.sub) dst[t.attr] = drop(dst[t.attr], t.sub);
    else delete dst[t.attr];
  }
  return out;
}
