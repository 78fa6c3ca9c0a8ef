/**
 * Text → carved topology: the entry points the daemon, the CLI and the IPAM
 * use. Parsing only checks syntax (comments and trailing commas accepted, see
 * json_text.ts); the structure is checked by validation, which lists every
 * problem at once instead of stopping at the first.
 *
 * Pure; no state survives a call.
 */
import { carveNormalized } from './carve.js';
import { parseLenientJson } from './json_text.js';
import type { CarvedTopology, TopologyInput } from './types.js';
import { normalizeTopology, type ValidateOptions } from './validate.js';

/**
 * Parses a topology file's text. Throws RomanaError INVALID_JSON ("line:column")
 * on a syntax error. The result is not validated yet: its type is what the
 * text claims to be; run `validateTopology` (or use `loadTopology`).
 */
export function parseTopologyText(text: string): TopologyInput {
  return parseLenientJson(text) as TopologyInput;
}

export interface LoadedTopology {
  /** The input as written (comments stripped): what the store keeps and GET /topology echoes. */
  readonly input: TopologyInput;
  readonly carved: CarvedTopology;
}

/** parse + validate (with the service range, when given) + carve. Throws INVALID_JSON or VALIDATION_FAILED. */
export function loadTopology(text: string, opts: ValidateOptions = {}): LoadedTopology {
  const input = parseTopologyText(text);
  return { input, carved: carveNormalized(normalizeTopology(input, opts)) };
}
