/**
 * CNI errors: the spec's well-known codes and the mapping of Romana's error
 * catalogue onto CNI error results.
 *
 * Design: every failure inside the plugin is a CniError carrying the code
 * the runtime sees. Codes 1–99 are the spec's (1.1 §"Error"); codes ≥ 100
 * come from the catalogue's `cni` numbers (src/core/errors.ts) so that a
 * daemon answer such as POOL_EXHAUSTED reaches kubelet with a stable number.
 * `msg` says what failed and why, in one sentence (kubelet shows it in the
 * pod's events); `details` (a string, as the spec wants) adds the Romana
 * code when the daemon raised it, or the failing command's output.
 */
import { ERROR_CATALOGUE, isRomanaError, type ErrorCode } from '../core/errors.js';

/** The spec's reserved codes (CNI 1.1). */
export const CNI_CODE = Object.freeze({
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO_FAILURE: 5,
  DECODE_FAILED: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  NOT_AVAILABLE: 50,
});

/** Catalogue code used for failures the catalogue has no entry for (its `cni` number). */
const INTERNAL_CNI = ERROR_CATALOGUE.INTERNAL.cni;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = '', opts: { cause?: unknown } = {}) {
    super(msg, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }
}

/** The spec's error result object. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

export function errorJson(e: CniError, cniVersion: string): CniErrorJson {
  const out: CniErrorJson = { cniVersion, code: e.code, msg: e.message };
  if (e.details !== '') out.details = e.details;
  return out;
}

/**
 * The CNI code for a catalogue code: its own `cni` number where it has
 * one; transient daemon states (a lost compare-and-swap, not ready yet)
 * are "try again later"; everything else is the catalogue's internal code.
 */
export function cniCodeFor(code: ErrorCode): number {
  const spec = ERROR_CATALOGUE[code] as { cni?: number };
  if (spec.cni !== undefined) return spec.cni;
  if (code === 'CONFLICT' || code === 'NOT_READY') return CNI_CODE.TRY_AGAIN_LATER;
  return INTERNAL_CNI;
}

/**
 * Converts anything thrown while serving a verb into a CniError. `doing`
 * names the step ("allocating an address for \"ns/pod\"") so the runtime's
 * event says where it failed.
 */
export function toCniError(e: unknown, doing: string): CniError {
  if (e instanceof CniError) return e;
  if (isRomanaError(e)) {
    return new CniError(cniCodeFor(e.code), `${doing}: ${e.message}`, `romana code ${e.code}`, { cause: e });
  }
  const err = e as Error;
  return new CniError(INTERNAL_CNI, `${doing}: ${err?.message ?? String(e)}`, err?.stack?.split('\n')[1]?.trim() ?? '', { cause: e });
}

export { INTERNAL_CNI };
