// Plain-text rendering of what suites return: aligned tables and one line per ratio.
import type { Ratio, SuiteResult, Table } from "./suite.ts";

export function formatTable(table: Table): string {
  const cells = [table.columns, ...table.rows.map((row) => row.map(cell))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  // Text columns left-aligned, figures right-aligned.
  const numeric = table.columns.map((_, i) => table.rows.every((row) => typeof row[i] === "number" || row[i] === null));
  const line = (row: string[]) =>
    row.map((text, i) => (numeric[i] ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
  const header = line(cells[0] as string[]);
  return [table.title, header, "-".repeat(header.length), ...cells.slice(1).map(line)].join("\n");
}

export function formatRatio(ratio: Ratio, nameWidth = 0): string {
  let text = `${ratio.name.padEnd(nameWidth)}  ${fixed(ratio.value)}  `;
  const detail = [ratio.basis === "pooled" ? "pooled" : `median of rounds; pooled ${fixed(ratio.pooled)}`];
  if (ratio.perRound) detail.push(`rounds ${fixed(ratio.perRound.min)}–${fixed(ratio.perRound.max)}`);
  text += `(${detail.join(", ")})`;
  if (ratio.note) text += `  ${ratio.note}`;
  return text;
}

export function formatResult(name: string, result: SuiteResult): string {
  const parts = [`== ${name}`];
  for (const table of result.tables) parts.push("", formatTable(table));
  if (result.ratios.length > 0) {
    const width = Math.max(...result.ratios.map((r) => r.name.length));
    parts.push("", "ratios (1.00 = same as the baseline; p50/rps: median of the per-round ratios, p99: pooled)", ...result.ratios.map((r) => `  ${formatRatio(r, width)}`));
  }
  if (result.notes && result.notes.length > 0) parts.push("", ...result.notes.map((n) => `  - ${n}`));
  if (result.problems && result.problems.length > 0) parts.push("", "PROBLEMS (the figures above are suspect)", ...result.problems.map((p) => `  ! ${p}`));
  return parts.join("\n");
}

function cell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "-";
  return typeof value === "number" ? String(value) : value;
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "-";
}
