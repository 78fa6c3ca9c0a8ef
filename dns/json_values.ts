/**
 * Lenient readers for decoded Kubernetes objects (JSON or YAML trees): a
 * field of the wrong type reads as empty instead of throwing, so one odd
 * object is skipped field by field rather than failing a whole list.
 * Shared by the snapshot reader and the watch feed, which must read the
 * same objects the same way.
 */
export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
/** A non-empty string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
