/**
 * The one error catalogue (STYLE §7). Every failure that crosses a process
 * boundary (HTTP, CLI exit, CNI result) carries a stable `code` from here.
 * Messages: sentence case, quoted values, colon before detail. Codes are
 * never renamed once released; add new ones at the end of their group.
 */

export interface ErrorSpec {
  /** HTTP status the daemon answers with. */
  readonly status: number;
  /** CNI error code (spec: 1xx reserved for plugins' own errors), where the error reaches a CNI result. */
  readonly cni?: number;
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  // input
  INVALID_JSON: { status: 400, summary: 'The body is not valid JSON' },
  VALIDATION_FAILED: { status: 422, summary: 'The input failed validation; details list every problem' },
  INVALID_CIDR: { status: 422, summary: 'A CIDR is malformed or has host bits set' },
  INVALID_ARGUMENT: { status: 400, summary: 'An argument is missing or malformed' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The body is not of a JSON content type' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The body exceeds the size limit' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'The route does not accept this method' },
  // access (daemon --token-file)
  UNAUTHORIZED: { status: 401, summary: 'No valid bearer token was presented' },
  FORBIDDEN: { status: 403, summary: "The token's role does not allow this request" },
  // lookups
  NOT_FOUND: { status: 404, summary: 'The named resource does not exist' },
  HOST_NOT_FOUND: { status: 404, cni: 101, summary: 'The host is not registered' },
  ADDRESS_NOT_FOUND: { status: 404, summary: 'No address with that name or IP is allocated' },
  NETWORK_NOT_FOUND: { status: 404, summary: 'The network is not defined' },
  // conflicts
  ALREADY_EXISTS: { status: 409, summary: 'A resource with that name already exists' },
  HOST_EXISTS: { status: 409, summary: 'A host with that name or IP already exists' },
  CONFLICT: { status: 409, summary: 'The resource changed concurrently; retry' },
  TOPOLOGY_CHANGE_ORPHANS: { status: 409, summary: 'The topology change would orphan existing allocations' },
  RESERVATION_CONFLICT: { status: 409, summary: 'The reservation overlaps allocated addresses' },
  RESOURCE_IN_USE: { status: 409, summary: 'The resource still has dependents (e.g. a tenant with allocated addresses)' },
  WATCH_FELL_BEHIND: { status: 409, summary: 'A watch stream consumer fell behind; resume from the revision given' },
  HISTORY_COMPACTED: { status: 410, summary: 'The requested watch revision is compacted; re-read and watch again' },
  // IPAM outcomes
  NO_SUITABLE_GROUP: { status: 422, cni: 102, summary: 'No prefix group accepts the host' },
  NO_NETWORK_FOR_TENANT: { status: 422, cni: 103, summary: 'No network serves the tenant' },
  POOL_EXHAUSTED: { status: 507, cni: 104, summary: 'No free address is left for the request' },
  // store
  STORE_UNAVAILABLE: { status: 503, cni: 105, summary: 'The store cannot be reached' },
  STORE_CORRUPT: { status: 500, summary: 'A stored record is unreadable or of a foreign schema' },
  NOT_READY: { status: 503, summary: 'The daemon is not ready (store unreachable or no topology loaded)' },
  DAEMON_UNREACHABLE: { status: 503, cni: 106, summary: 'The romana daemon cannot be reached or did not answer in time' },
  // everything else
  INTERNAL: { status: 500, cni: 999, summary: 'Internal error' },
  NOT_IMPLEMENTED: { status: 501, summary: 'Not implemented yet' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** One validation problem: where (JSON path like `$.networks[0].cidr`), what value, what is wrong. */
export interface Problem {
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

export class RomanaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly resourceType: string | undefined;
  readonly resourceId: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; resourceType?: string; resourceId?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RomanaError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = opts.details ?? {};
    this.resourceType = opts.resourceType;
    this.resourceId = opts.resourceId;
  }

  /** The JSON body the daemon sends: {status_code, code, message, details, resource_type, resource_id}. */
  toJSON(): Record<string, unknown> {
    return {
      status_code: this.status,
      code: this.code,
      message: this.message,
      details: this.details,
      resource_type: this.resourceType ?? null,
      resource_id: this.resourceId ?? null,
    };
  }
}

/** A VALIDATION_FAILED error listing every problem; the message names the first few. */
export function validationError(what: string, problems: readonly Problem[]): RomanaError {
  const shown = problems.slice(0, 3).map((p) => `${p.path}: ${p.message}`).join('; ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  return new RomanaError('VALIDATION_FAILED', `Invalid ${what}: ${shown}${more}`, {
    details: { problems: problems.map((p) => ({ path: p.path, value: p.value, message: p.message })) },
  });
}

export function isRomanaError(e: unknown): e is RomanaError {
  return e instanceof RomanaError;
}
