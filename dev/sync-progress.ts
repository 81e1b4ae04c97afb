// Runs a full sync through the Worker's own API and shows its progress, read from the run's per-stream stats:
// a redrawn bar per stream on a terminal, plain lines otherwise; then a summary table.
import type { Writable } from "node:stream";
import type { SyncRunView, SyncStreamView } from "../src/db/sync-runs.ts";

/** What the Worker's `GET /api/sync/runs/:id` answers; only the fields shown here are read. */
export type StreamStats = Pick<
  SyncStreamView,
  "stream" | "status" | "pages" | "rowsRead" | "rowsUpserted" | "rowsDeleted" | "unitsTotal" | "unitsDone" | "unitsFailed" | "lastError"
>;
export type RunView = Pick<SyncRunView, "id" | "status"> & { streams: StreamStats[] };

const DONE = new Set(["succeeded", "partial", "failed", "skipped"]);

export async function runSync(options: {
  workerUrl: string;
  adminToken: string;
  out: Writable & { isTTY?: boolean; columns?: number };
  mode?: "full" | "incremental";
  pollMs?: number;
}): Promise<RunView | undefined> {
  const { workerUrl, out } = options;
  const headers = { Authorization: `Bearer ${options.adminToken}`, "Content-Type": "application/json" };
  const started = await fetch(`${workerUrl}/api/sync-iriscrm`, {
    method: "POST",
    headers,
    body: JSON.stringify({ dataType: "all", mode: options.mode ?? "full" }),
  });
  if (started.status === 404) {
    // No sync engine in this build: show that the Worker reaches IRIS through the resilience layer.
    const ping = await fetch(`${workerUrl}/api/iris/ping`, { headers });
    out.write(`\nIRIS ping through the resilience layer: ${ping.status} ${await ping.text()}\n`);
    return undefined;
  }
  let runId: string;
  if (started.status === 202) {
    runId = ((await started.json()) as { runId: string }).runId;
  } else if (started.status === 409) {
    runId = ((await started.json()) as { runId: string }).runId;
    out.write(`a sync is already in progress (run ${runId}); following it\n`);
  } else {
    out.write(`\nsync could not start: ${started.status} ${await started.text()}\n`);
    return undefined;
  }
  out.write(`\nsync run ${runId} (full)\n`);

  const tty = Boolean(out.isTTY);
  const t0 = Date.now();
  let drawnLines = 0;
  let lastPlain = "";
  let lastPlainAt = 0;
  for (;;) {
    const res = await fetch(`${workerUrl}/api/sync/runs/${runId}`, { headers });
    if (!res.ok) {
      out.write(`reading the run failed: ${res.status} ${await res.text()}\n`);
      return undefined;
    }
    const run = (await res.json()) as RunView;
    const elapsed = (Date.now() - t0) / 1000;
    const lines = run.streams.map((s) => progressLine(s, elapsed, tty ? (out.columns ?? 100) : 0));
    if (tty) {
      if (drawnLines > 0) out.write(`\x1b[${drawnLines}A`);
      for (const line of lines) out.write(`\x1b[2K${line}\n`);
      drawnLines = lines.length;
    } else {
      const text = lines.join("\n");
      if (text !== lastPlain && (Date.now() - lastPlainAt > 2000 || DONE.has(run.status))) {
        out.write(`${text}\n`);
        lastPlain = text;
        lastPlainAt = Date.now();
      }
    }
    if (DONE.has(run.status)) {
      out.write(`\n${summaryTable(run, elapsed)}\n`);
      return run;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

export function progressLine(s: StreamStats, elapsedSeconds: number, width: number): string {
  const share = s.unitsTotal > 0 ? Math.min(1, (s.unitsDone + s.unitsFailed) / s.unitsTotal) : DONE.has(s.status) ? 1 : 0;
  const facts = `${s.stream.padEnd(9)} ${s.status.padEnd(9)} units ${s.unitsDone + s.unitsFailed}/${s.unitsTotal}  pages ${s.pages}  rows ${s.rowsRead}  ${elapsedSeconds.toFixed(1)}s`;
  if (width <= 0) return facts;
  const barWidth = Math.max(10, Math.min(30, width - facts.length - 4));
  const filled = Math.round(share * barWidth);
  return `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${facts}`;
}

export function summaryTable(run: RunView, elapsedSeconds: number): string {
  const header = ["stream", "status", "pages", "read", "upserted", "deleted", "units", "failed"];
  const rows = run.streams.map((s) => [
    s.stream,
    s.status,
    String(s.pages),
    String(s.rowsRead),
    String(s.rowsUpserted),
    String(s.rowsDeleted),
    String(s.unitsDone + s.unitsFailed),
    String(s.unitsFailed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const lines = [format(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(format)];
  lines.push("", `run ${run.id}: ${run.status} in ${elapsedSeconds.toFixed(1)}s`);
  for (const s of run.streams) if (s.lastError) lines.push(`  ${s.stream}: last error: ${s.lastError}`);
  return lines.join("\n");
}
