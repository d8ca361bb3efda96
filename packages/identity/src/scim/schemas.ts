/**
 * What EMS's SCIM service provider serves (RFC 7643 §7, §6, §5): the schemas of its resources — only the
 * attributes the directory holds — the resource types, and the service provider's configuration. These
 * definitions are also what filters, `attributes`, sorting and PATCH paths are resolved against.
 */

export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  ems: 'urn:ems:params:scim:schemas:extension:ems:2.0:User',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  config: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
} as const;

export const SCIM_MEDIA_TYPE = 'application/scim+json';
/** Largest page a list answers (`count` above it is lowered to it, as RFC 7644 §3.4.2.4 allows). */
export const MAX_RESULTS = 200;
/** Most operations in one PATCH request. */
export const MAX_PATCH_OPERATIONS = 100;
/** Largest SCIM request body, bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

export type AttrType = 'string' | 'boolean' | 'integer' | 'dateTime' | 'reference' | 'complex';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: AttrDef[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

const attr = (name: string, type: AttrType, description: string, o: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type,
  multiValued: false,
  description,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...o,
});

const reference = (description: string, types: string[], o: Partial<AttrDef> = {}): AttrDef[] => [
  attr('value', 'string', `The ${description}'s id in EMS's directory.`, { caseExact: true, ...o }),
  attr('$ref', 'reference', `The URI of the ${description}'s User resource.`, { referenceTypes: types, mutability: 'readOnly' }),
  attr('displayName', 'string', `The ${description}'s name.`, { mutability: 'readOnly' }),
];

export interface SchemaDef {
  id: string;
  name: string;
  description: string;
  attributes: AttrDef[];
}

export const USER_SCHEMA: SchemaDef = {
  id: SCIM.user,
  name: 'User',
  description: 'A person of the directory',
  attributes: [
    attr('userName', 'string', 'Unique identifier of the person at the identity provider (EMS defaults it to the email).', { required: true, uniqueness: 'server' }),
    attr('name', 'complex', "The person's name; EMS keeps the formatted name only.", {
      subAttributes: [
        attr('formatted', 'string', 'The full name, as displayed.'),
        attr('givenName', 'string', 'Given name: accepted on writes when there is no formatted name; not stored separately.', { returned: 'never' }),
        attr('familyName', 'string', 'Family name: accepted on writes when there is no formatted name; not stored separately.', { returned: 'never' }),
      ],
    }),
    attr('displayName', 'string', "The person's name, as displayed (the same as name.formatted in EMS)."),
    attr('title', 'string', 'Job title.'),
    attr('timezone', 'string', 'IANA time zone, e.g. Europe/Berlin (the working hours are in it).'),
    attr('active', 'boolean', 'false: deactivated. EMS never deletes a person; DELETE sets this to false.'),
    attr('emails', 'complex', 'The work email address (EMS keeps one: the primary one).', {
      multiValued: true,
      required: true,
      subAttributes: [
        attr('value', 'string', 'Email address.'),
        attr('type', 'string', 'Always work.', { canonicalValues: ['work'] }),
        attr('primary', 'boolean', 'Always true.'),
      ],
    }),
    attr('addresses', 'complex', 'Where the person works: EMS keeps the location as a work address locality.', {
      multiValued: true,
      subAttributes: [
        attr('locality', 'string', 'The location (city or site).'),
        attr('formatted', 'string', 'The location, as displayed.', { mutability: 'readOnly' }),
        attr('type', 'string', 'Always work.', { canonicalValues: ['work'] }),
        attr('primary', 'boolean', 'Always true.'),
      ],
    }),
    attr('groups', 'complex', "The administrative roles the person holds (change them through the Groups' members).", {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        attr('value', 'string', "The group's id (hr_lead, access_admin or operator).", { mutability: 'readOnly', caseExact: true }),
        attr('$ref', 'reference', "The URI of the Group.", { mutability: 'readOnly', referenceTypes: ['Group'] }),
        attr('display', 'string', "The group's name.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const ENTERPRISE_SCHEMA: SchemaDef = {
  id: SCIM.enterprise,
  name: 'EnterpriseUser',
  description: 'Enterprise User (RFC 7643 §4.3): the department and the manager',
  attributes: [
    attr('employeeNumber', 'string', "The person's id in EMS's directory: given when the User is created it becomes the id (else EMS makes one); never changes.", { caseExact: true, mutability: 'immutable' }),
    attr('department', 'string', 'The department.'),
    attr('manager', 'complex', "The person's manager (a User of this directory).", { subAttributes: reference('manager', ['User']) }),
  ],
};

export const EMS_SCHEMA: SchemaDef = {
  id: SCIM.ems,
  name: 'EmsUser',
  description: "EMS's extension: the HR partner and the working week",
  attributes: [
    attr('hrPartner', 'complex', "The person's HR partner (a User of this directory).", { subAttributes: reference('HR partner', ['User']) }),
    attr('workingDays', 'integer', 'ISO weekdays the person works, 1 = Monday … 7 = Sunday (default 1-5).', { multiValued: true }),
    attr('workStart', 'string', 'Start of the working day, HH:MM in the time zone (default 09:00).'),
    attr('workEnd', 'string', 'End of the working day, HH:MM in the time zone (default 17:00).'),
  ],
};

export const GROUP_SCHEMA: SchemaDef = {
  id: SCIM.group,
  name: 'Group',
  description: "EMS's administrative roles as groups: hr_lead, access_admin and operator. Fixed: they are neither created nor deleted.",
  attributes: [
    attr('displayName', 'string', 'The role.', { mutability: 'readOnly', required: true }),
    attr('members', 'complex', 'The people holding the role.', {
      multiValued: true,
      subAttributes: [
        attr('value', 'string', "A member's id in the directory.", { caseExact: true, mutability: 'immutable' }),
        attr('$ref', 'reference', "The member's URI.", { mutability: 'immutable', referenceTypes: ['User'] }),
        attr('display', 'string', "The member's name.", { mutability: 'readOnly' }),
        attr('type', 'string', 'Always User.', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

/** Attributes every resource has (RFC 7643 §3.1), resolved like the schema's own. */
export const COMMON_ATTRIBUTES: AttrDef[] = [
  attr('id', 'string', 'The directory id.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', 'string', "The provisioning client's own id for the resource.", { caseExact: true }),
  attr('meta', 'complex', 'Resource metadata.', {
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'string', 'User or Group.', { mutability: 'readOnly', caseExact: true }),
      attr('created', 'dateTime', 'When the resource was created.', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', 'When it last changed.', { mutability: 'readOnly' }),
      attr('location', 'reference', 'Its URI.', { mutability: 'readOnly' }),
      attr('version', 'string', 'Its ETag.', { mutability: 'readOnly', caseExact: true }),
    ],
  }),
];

export const SCHEMAS: readonly SchemaDef[] = [USER_SCHEMA, ENTERPRISE_SCHEMA, EMS_SCHEMA, GROUP_SCHEMA];

export interface ResourceTypeDef {
  id: 'User' | 'Group';
  endpoint: '/Users' | '/Groups';
  schema: string;
  extensions: string[];
}
export const RESOURCE_TYPES: readonly ResourceTypeDef[] = [
  { id: 'User', endpoint: '/Users', schema: SCIM.user, extensions: [SCIM.enterprise, SCIM.ems] },
  { id: 'Group', endpoint: '/Groups', schema: SCIM.group, extensions: [] },
];

/** An attribute found by a path: its definition, and the schema it belongs to (undefined: a common attribute). */
export interface ResolvedAttr {
  def: AttrDef;
  schema: string | undefined;
  sub?: AttrDef;
}

/**
 * Finds the attribute `uri:attr.sub` names on a resource type, case-insensitively (RFC 7644 §3.10); a path
 * without a URI is looked up in the core schema first, then the extensions. undefined: no such attribute.
 */
export function resolveAttr(type: ResourceTypeDef, path: { uri?: string; attr: string; sub?: string }): ResolvedAttr | undefined {
  const schemas = [type.schema, ...type.extensions].map((id) => SCHEMAS.find((s) => s.id === id)!);
  const lower = path.attr.toLowerCase();
  let found: ResolvedAttr | undefined;
  if (path.uri !== undefined) {
    const schema = schemas.find((s) => s.id.toLowerCase() === path.uri!.toLowerCase());
    if (!schema) return undefined;
    const def = schema.attributes.find((a) => a.name.toLowerCase() === lower) ?? (schema.id === type.schema ? COMMON_ATTRIBUTES.find((a) => a.name.toLowerCase() === lower) : undefined);
    if (def) found = { def, schema: COMMON_ATTRIBUTES.includes(def) ? undefined : schema.id };
  } else {
    const common = COMMON_ATTRIBUTES.find((a) => a.name.toLowerCase() === lower);
    if (common) found = { def: common, schema: undefined };
    else
      for (const s of schemas) {
        const def = s.attributes.find((a) => a.name.toLowerCase() === lower);
        if (def) {
          found = { def, schema: s.id };
          break;
        }
      }
  }
  if (!found) return undefined;
  if (path.sub === undefined) return found;
  const sub = found.def.subAttributes?.find((a) => a.name.toLowerCase() === path.sub!.toLowerCase());
  return sub ? { ...found, sub } : undefined;
}

/** The schema URN a path names whole (`urn:…:enterprise:2.0:User` parses as uri `urn:…:2.0`, attr `User`). */
export function wholeSchemaOf(type: ResourceTypeDef, path: { uri?: string; attr: string; sub?: string }): string | undefined {
  if (path.uri === undefined || path.sub !== undefined) return undefined;
  const urn = `${path.uri}:${path.attr}`.toLowerCase();
  return type.extensions.find((e) => e.toLowerCase() === urn);
}

// ── What the discovery endpoints answer ──────────────────────────────────────────────────────────────

const meta = (base: string, resourceType: string, location: string) => ({ resourceType, location: `${base}${location}` });

export function schemaResource(s: SchemaDef, base: string) {
  return { schemas: [SCIM.schema], id: s.id, name: s.name, description: s.description, attributes: s.attributes, meta: meta(base, 'Schema', `/Schemas/${s.id}`) };
}

export function resourceTypeResource(t: ResourceTypeDef, base: string) {
  return {
    schemas: [SCIM.resourceType],
    id: t.id,
    name: t.id,
    endpoint: t.endpoint,
    description: t.id === 'User' ? 'People of the directory' : "EMS's administrative roles (hr_lead, access_admin, operator)",
    schema: t.schema,
    schemaExtensions: t.extensions.map((schema) => ({ schema, required: false })),
    meta: meta(base, 'ResourceType', `/ResourceTypes/${t.id}`),
  };
}

export function serviceProviderConfig(base: string, docs: string) {
  return {
    schemas: [SCIM.config],
    documentationUri: docs,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Provisioning token',
        description:
          'Authorization: Bearer ems_scim_… — a provisioning token an EMS operator creates (POST /api/provisioning-tokens), or an access token of the ' +
          "organisation's OpenID provider issued to EMS's provisioning client (client credentials).",
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}
