/**
 * Plain-text tables that stay readable in a terminal of `width` columns
 * (80 when stdout is not a terminal).
 *
 * Design: every column has a natural width (its widest cell or header).
 * When the row is too wide, columns are narrowed in two phases: first
 * headers wider than their values wrap at their spaces ("Agent Port" over
 * "9604"), the one freeing most room first; then the widest *flexible*
 * column shrinks one character at a time down to its minimum and its
 * cells are wrapped, breaking
 * after a space, comma, semicolon, slash or hyphen when one is near, otherwise
 * inside the word. Fixed columns (names, addresses, CIDRs, numbers) are
 * never cut: a value the user may copy must stay whole, so a table whose
 * fixed columns alone are too wide simply runs past the edge.
 *
 * Header row, then a dashed rule, then the rows; two spaces between
 * columns; no trailing spaces. Widths count code points (no wide-character
 * support: names here are DNS-like). Pure.
 */

export interface Column {
  header: string;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
  /** May be narrowed and wrapped when the table is too wide. */
  flex?: boolean;
  /** Narrowest a flexible column gets (default 12, or less when its content is narrower). */
  min?: number;
  /** A flexible column that shrinks only once the other flexible ones are at their minimum (ids one may copy). */
  last?: boolean;
}

export const GAP = '  ';
const DEFAULT_MIN = 12;
/** Characters a wrapped line may end with: word and list separators, and the '-' inside ids (UUIDs, DNS names). */
const BREAK_AFTER = new Set([' ', ',', ';', '/', '|', '-']);

function len(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function longestLine(s: string): number {
  return Math.max(0, ...s.split('\n').map(len));
}

/**
 * Wraps `text` into lines of at most `width` code points. Existing newlines
 * are kept. Breaks after the last space, else after the last other
 * separator (BREAK_AFTER) that leaves the line at least half full, else
 * hard-breaks.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let rest = [...para];
    if (rest.length === 0) out.push('');
    while (rest.length > 0) {
      if (rest.length <= w) {
        out.push(rest.join('').trimEnd());
        break;
      }
      // A space anywhere keeps words (addresses, CIDRs) whole; failing that, another separator in the
      // second half of the line ("8e66083f-20e3-" | "4228-…"); failing that, a hard break.
      // (A space right after the limit is the cleanest break of all.)
      let cut = rest[w] === ' ' ? w : -1;
      for (let i = w; i >= 2 && cut === -1; i--) if (rest[i - 1] === ' ') cut = i;
      for (let i = w; i >= Math.ceil(w / 2) && cut === -1; i--) if (BREAK_AFTER.has(rest[i - 1]!)) cut = i;
      if (cut === -1) cut = w;
      out.push(rest.slice(0, cut).join('').trimEnd());
      rest = rest.slice(cut);
      while (rest[0] === ' ') rest = rest.slice(1);
    }
  }
  return out;
}

/** The widths each column gets for `width` columns in all. */
export function columnWidths(columns: readonly Column[], rows: readonly (readonly string[])[], width: number): number[] {
  const content = columns.map((_, i) => Math.max(0, ...rows.map((r) => longestLine(r[i] ?? ''))));
  const widths = columns.map((c, i) => Math.max(len(c.header), content[i]!));
  const headerWord = columns.map((c) => Math.max(...c.header.split(' ').map(len)));
  // Phase 1 floors: a header wider than its values may wrap at its spaces ("Agent Port" over "9604").
  const headerFloor = columns.map((_, i) => Math.min(widths[i]!, Math.max(content[i]!, headerWord[i]!)));
  // Phase 2 floors: flexible columns wrap their values too.
  const flexFloor = columns.map((c, i) => (c.flex ? Math.min(widths[i]!, Math.max(headerWord[i]!, c.min ?? DEFAULT_MIN)) : headerFloor[i]!));
  let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1) - width;
  // Phase 1: a header either wraps or not, so wrap whole headers, the one freeing most room first.
  while (excess > 0) {
    let pick = -1;
    for (let i = 0; i < columns.length; i++) {
      if (widths[i]! <= headerFloor[i]!) continue;
      if (pick === -1 || widths[i]! - headerFloor[i]! > widths[pick]! - headerFloor[pick]!) pick = i;
    }
    if (pick === -1) break;
    excess -= widths[pick]! - headerFloor[pick]!;
    widths[pick] = headerFloor[pick]!;
  }
  // Phase 2: narrow the widest flexible column one character at a time ("last" columns only after the others).
  for (const last of [false, true]) {
    while (excess > 0) {
      let pick = -1;
      for (let i = 0; i < columns.length; i++) {
        if (widths[i]! <= flexFloor[i]! || (columns[i]!.last === true) !== last) continue;
        if (pick === -1 || widths[i]! > widths[pick]!) pick = i;
      }
      if (pick === -1) break;
      widths[pick]!--;
      excess--;
    }
  }
  return widths;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, w - len(s)));
  return align === 'right' ? fill + s : s + fill;
}

export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], width = 80): string {
  const widths = columnWidths(columns, rows, width);
  const lines: string[] = [];
  const emit = (cells: readonly string[], isHeader: boolean): void => {
    const wrapped = cells.map((c, i) => {
      const col = columns[i]!;
      return col.flex || isHeader ? wrapText(c, widths[i]!) : c.split('\n');
    });
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let k = 0; k < height; k++) {
      const parts = wrapped.map((w, i) => pad(w[k] ?? '', widths[i]!, isHeader ? 'left' : (columns[i]!.align ?? 'left')));
      lines.push(parts.join(GAP).trimEnd());
    }
  };
  emit(columns.map((c) => c.header), true);
  lines.push(widths.map((w) => '-'.repeat(w)).join(GAP));
  for (const r of rows) emit(columns.map((_, i) => r[i] ?? ''), false);
  return lines.join('\n') + '\n';
}

/**
 * "Key:  value" lines for one object (the `show` commands), values aligned
 * after the longest key and wrapped to `width`; continuation lines indent
 * under the value.
 */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>, width = 80, indent = '  '): string {
  const keyWidth = Math.max(0, ...fields.map(([k]) => len(k) + 1));
  const valueWidth = Math.max(20, width - indent.length - keyWidth - 2);
  const lines: string[] = [];
  for (const [k, v] of fields) {
    const wrapped = wrapText(v, valueWidth);
    wrapped.forEach((line, i) => {
      const head = i === 0 ? pad(`${k}:`, keyWidth, 'left') : ' '.repeat(keyWidth);
      lines.push(`${indent}${head}  ${line}`.trimEnd());
    });
  }
  return lines.join('\n') + '\n';
}

/** Indents every non-empty line of `text`. */
export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}
