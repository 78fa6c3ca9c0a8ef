/**
 * Bearer-token access control for the daemon (--token-file).
 *
 * Token file: one `<token> <role>` per line, `#` starts a comment, blank
 * lines ignored. Roles:
 *   admin      everything
 *   agent      reads, POST/DELETE /address, POST /hosts/{name}/heartbeat,
 *              PUT/DELETE /endpoints/{ns}/{pod} (the CNI plugin uses the agent token)
 *   read-only  reads (GET) only
 * Each route declares the access it needs (`Access`); /healthz and /readyz
 * are open so that probes need no secret.
 *
 * Design: tokens are kept only as SHA-256 digests; a presented token is
 * hashed and compared with `timingSafeEqual` against EVERY entry, without
 * stopping at a match, so neither the comparison nor the position of the
 * matching line shows in the response time.
 *
 * Concurrency rule: the table is immutable after loading.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { RomanaError } from '../core/errors.js';

export const ROLES = ['admin', 'agent', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

/** What a route requires. */
export type Access = 'open' | 'read' | 'allocate' | 'heartbeat' | 'endpoint' | 'admin';

const ALLOWED: Readonly<Record<Role, ReadonlySet<Access>>> = {
  admin: new Set<Access>(['read', 'allocate', 'heartbeat', 'endpoint', 'admin']),
  agent: new Set<Access>(['read', 'allocate', 'heartbeat', 'endpoint']),
  'read-only': new Set<Access>(['read']),
};

export interface TokenEntry {
  readonly digest: Buffer;
  readonly role: Role;
  /** Line in the file, for logs (never the token). */
  readonly line: number;
}

export type TokenFileResult = { ok: true; entries: TokenEntry[] } | { ok: false; problems: string[] };

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function parseTokenFile(text: string): TokenFileResult {
  const entries: TokenEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf('#');
    const content = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (content === '') return;
    const parts = content.split(/\s+/);
    if (parts.length !== 2) {
      problems.push(`line ${line}: expected "<token> <role>", found ${parts.length} field(s)`);
      return;
    }
    const [token, role] = parts as [string, string];
    if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`line ${line}: unknown role ${JSON.stringify(role)} (roles: ${ROLES.join(', ')})`);
      return;
    }
    if (token.length < 8) {
      problems.push(`line ${line}: token too short (${token.length} characters; use at least 8)`);
      return;
    }
    const d = digest(token);
    const key = d.toString('hex');
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push(`line ${line}: the same token as line ${first}`);
      return;
    }
    seen.set(key, line);
    entries.push({ digest: d, role: role as Role, line });
  });
  if (problems.length === 0 && entries.length === 0) problems.push('no tokens: the file has no "<token> <role>" line');
  return problems.length > 0 ? { ok: false, problems } : { ok: true, entries };
}

export class TokenTable {
  constructor(private readonly entries: readonly TokenEntry[]) {}

  /** The role of `token`, or null. Constant time in the token's content (see the module header). */
  lookup(token: string): Role | null {
    const d = digest(token);
    let found: Role | null = null;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && found === null) found = e.role;
    }
    return found;
  }

  get size(): number {
    return this.entries.length;
  }
}

export function roleAllows(role: Role, access: Access): boolean {
  return access === 'open' || ALLOWED[role].has(access);
}

/**
 * Checks a request's Authorization header against the table; returns the
 * role. UNAUTHORIZED (401) for a missing, malformed or unknown token;
 * FORBIDDEN (403) when the role may not do `access`.
 */
export function authorize(table: TokenTable, header: string | undefined, access: Access, what: string): Role | null {
  if (access === 'open') return null;
  if (header === undefined || header.trim() === '') {
    throw new RomanaError('UNAUTHORIZED', `Authentication required for ${what}: send "Authorization: Bearer <token>"`);
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new RomanaError('UNAUTHORIZED', `Malformed Authorization header for ${what}: expected "Bearer <token>"`);
  const role = table.lookup(m[1]!);
  if (role === null) throw new RomanaError('UNAUTHORIZED', `Unknown bearer token for ${what}`);
  if (!roleAllows(role, access)) {
    throw new RomanaError('FORBIDDEN', `Role "${role}" may not ${what}`, { details: { role, requires: access } });
  }
  return role;
}
