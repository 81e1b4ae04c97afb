// RFC 4180 CSV for the list endpoints: a header row, CRLF line ends, fields quoted when they must be.

type Cell = string | number | boolean | null | undefined;

/**
 * Nested objects become dotted column names ({ change: { mom: 1 } } → "change.mom"); arrays are joined with
 * ";" so a cell stays one value. Key order is kept, so the columns follow the JSON shape.
 */
export function flattenRow(row: Record<string, unknown>, prefix = "", out: Record<string, Cell> = {}): Record<string, Cell> {
  for (const [key, value] of Object.entries(row)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) out[name] = value.map((v) => String(v)).join(";");
    else if (value !== null && typeof value === "object") flattenRow(value as Record<string, unknown>, name, out);
    else out[name] = value as Cell;
  }
  return out;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Quotes a field when it holds a comma, a quote, CR or LF, or starts or ends with a space. A text starting with
 * = + - @ or a tab would be run as a formula by spreadsheet programs, so it gets a leading apostrophe; numbers
 * (including negative amounts) are left alone.
 */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text) && !NUMBER.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || /^\s|\s$/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** Rows to CSV. Columns are the union of the flattened rows' keys in first-seen order unless given. */
export function toCsv(rows: readonly object[], columns?: string[]): string {
  const flat = rows.map((row) => flattenRow(row as Record<string, unknown>));
  const header = columns ?? [...new Set(flat.flatMap((r) => Object.keys(r)))];
  const lines = [header.map(csvField).join(",")];
  for (const r of flat) lines.push(header.map((c) => csvField(r[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
