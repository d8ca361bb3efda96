import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

/**
 * The trust boundary as the HTTP server sees it. The server knows nothing of tokens or roles: it asks
 * the security (built by @ems/identity from the policy table) to check each route as it is declared,
 * and to admit each request before its body is even read. Routes then use `req.permit` for the rows.
 */

export type View = 'full' | 'summary';

/** Who made a change: recorded on the timeline and in the access audit. */
export interface Actor {
  /** A person's directory id, or a service's name. */
  id: string;
  kind: 'person' | 'service';
  name: string | null;
  /** The role that allowed the change (e.g. hr_partner), or `service`. */
  role: string;
  /** The client it came through: the web app, the CLI, an API token, a service's credentials. */
  client: string;
}

export interface Principal {
  kind: 'person' | 'service';
  /** Directory person id, or service name. */
  id: string;
  name: string | null;
  /** Roles from the directory (and, with an external provider, the mapped groups claim). Empty for services. */
  roles: readonly string[];
  /** The OAuth client, API token or session the request came through. */
  client: string;
  via: 'token' | 'api-token' | 'session';
}

/** What the policy allowed this request: the rows and the view. */
export interface Permit {
  readonly operation: string;
  readonly principal: Principal;
  /** The view of rows about this employee, or undefined when the caller must not see them (answer 404). */
  viewOf(employeeId: string): View | undefined;
  /** Employees whose rows the caller may see, or undefined for every row (lists filter by it). */
  readonly employeeIds: readonly string[] | undefined;
  /** The actor to record for a change made under this permit (the role is the one that grants `employeeId`'s row). */
  actor(employeeId?: string): Actor;
}

export interface HttpSecurity {
  /** Called for each route as it is declared: throws when a non-public route has no policy. */
  checkRoute(route: RouteOptions): void;
  /** Admits a request to an operation (401/403 problems otherwise). Runs before the body is parsed. */
  admit(req: FastifyRequest, reply: FastifyReply, operation: string): Promise<Permit>;
  /** OpenAPI additions: the security schemes, and per operation its `security` and who may call it. */
  openapi: {
    securitySchemes: Record<string, unknown>;
    operation(operationId: string): { security: Array<Record<string, string[]>>; description: string; extensions: Record<string, unknown> } | undefined;
  };
}

/** Route config of a route anyone may call (health, docs, the sign-in flow). */
export interface RouteSecurityConfig {
  public?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for every non-public route before its handler runs. */
    permit: Permit;
  }
  interface FastifyContextConfig {
    /** Anyone may call it: no authentication, no policy. */
    public?: boolean;
  }
}
