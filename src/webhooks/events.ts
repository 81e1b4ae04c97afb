// Pure: what a delivery asks of us. IRIS signs nothing, so a payload only says what to re-fetch; the data itself
// always comes from the API. No I/O here.
import { z } from "zod";
import { leadIdsFromWebhook, midToText, residualPeriodsFromWebhook } from "../iris/mapping.ts";
import { intLike, parseWebhookData } from "../iris/schemas.ts";
import { type YearMonth, monthLabel } from "../sync/planner.ts";

export type WebhookPlan =
  /** Re-sync each processor-month a residual report was (re)published for. */
  | { action: "residuals"; months: YearMonth[] }
  /** Refresh the merchants behind these leads (lead detail → mid → merchant detail); `mids` are named directly. */
  | { action: "leads"; leadIds: number[]; mids: string[] }
  /** subscription.test: recorded and answered, nothing to do. */
  | { action: "ping" }
  | { action: "ignore"; reason: string };

export type WebhookAction = WebhookPlan["action"];

export interface PlanProblem {
  path: string;
  message: string;
}

/**
 * turboapp.approved (TurboAppApproved): `data.accounts[]` with the lead (`lid`) and, once boarded, the merchant
 * (`mid`). Only those two are read; everything else in an account is left alone.
 */
export const turboAppApprovedDataSchema = z.object({
  accounts: z.array(
    z.object({
      lid: intLike.nullish(),
      mid: z.union([z.string().trim(), z.int()]).nullish(),
    }),
  ),
});

// Residual months outside this range cannot be real reports; a run for them would only ask IRIS for nothing.
const FIRST_YEAR = 2000;
const LAST_YEAR = 2100;

/**
 * The plan for a delivery, or the problems that make its `data` unusable for the event it names. Events we do not
 * act on are never refused for their data: they are recorded as ignored whatever they carry.
 */
export function planWebhook(event: string, data: unknown): { ok: true; plan: WebhookPlan } | { ok: false; problems: PlanProblem[] } {
  if (event === "turboapp.approved") {
    const parsed = turboAppApprovedDataSchema.safeParse(data);
    if (!parsed.success) {
      return { ok: false, problems: parsed.error.issues.map((i) => ({ path: ["data", ...i.path].join("."), message: i.message })) };
    }
    const leadIds = unique(parsed.data.accounts.map((a) => a.lid).filter((id): id is number => typeof id === "number" && id > 0));
    // An account without a lead id but with a merchant number is refreshed by that number.
    const mids = unique(
      parsed.data.accounts
        .filter((a) => (a.lid === null || a.lid === undefined) && a.mid !== null && a.mid !== undefined && a.mid !== "" && a.mid !== 0)
        .map((a) => midToText(a.mid!)),
    );
    if (leadIds.length === 0 && mids.length === 0) return { ok: true, plan: { action: "ignore", reason: "the approval names no lead and no merchant" } };
    return { ok: true, plan: { action: "leads", leadIds, mids } };
  }
  const kind = residualOrLead(event);
  if (kind === null) {
    if (event === "subscription.test") return { ok: true, plan: { action: "ping" } };
    return { ok: true, plan: { action: "ignore", reason: ignoreReason(event) } };
  }
  const parsed = parseWebhookData(event, data);
  if (!parsed.ok) return { ok: false, problems: [{ path: "data", message: parsed.error }] };
  const value = parsed.value;
  if (value.kind === "residuals.report.published") {
    const months = uniqueMonths(
      residualPeriodsFromWebhook(value.data)
        .filter((p) => p.year >= FIRST_YEAR && p.year <= LAST_YEAR)
        .map(({ year, month }) => ({ year, month })),
    );
    if (months.length === 0) return { ok: true, plan: { action: "ignore", reason: "the event names no residual report" } };
    return { ok: true, plan: { action: "residuals", months } };
  }
  if (value.kind === "lead") return { ok: true, plan: { action: "leads", leadIds: leadIdsFromWebhook(value.data), mids: [] } };
  return { ok: true, plan: { action: "ignore", reason: ignoreReason(event) } };
}

function residualOrLead(event: string): "residuals" | "lead" | null {
  if (event === "residuals.report.published") return "residuals";
  if (event.startsWith("lead.")) return "lead";
  return null;
}

/** Why an event is recorded as ignored; shown in GET /api/webhooks. */
export function ignoreReason(event: string): string {
  if (event.startsWith("chargeback.") || event.startsWith("retrieval.")) {
    return "disputes do not change settled batch totals, and the portal stores no disputes";
  }
  if (event === "residuals.lineitem.added") return "residual line items are not synced";
  return "an event the portal does not act on";
}

/**
 * How long a new event's queue message waits before it is processed. Deliveries about the same thing that arrive
 * within this window are covered by the refresh the first of them starts: a residual publication burst (one
 * delivery per processor, or IRIS redelivering) within a minute causes one refresh of the month.
 */
export function coalesceSeconds(plan: WebhookPlan): number {
  switch (plan.action) {
    case "residuals":
      return RESIDUAL_COALESCE_SECONDS;
    case "leads":
      return LEAD_COALESCE_SECONDS;
    default:
      return 0;
  }
}

export const RESIDUAL_COALESCE_SECONDS = 60;
export const LEAD_COALESCE_SECONDS = 10;
/** Wait before looking again when the stream a refresh needs is held by a run that started before the event. */
export const BUSY_RETRY_SECONDS = 30;
/** Processing errors (not waits) after which an event is recorded failed instead of being tried again. */
export const MAX_PROCESSING_ATTEMPTS = 10;

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function uniqueMonths(months: readonly YearMonth[]): YearMonth[] {
  const byLabel = new Map(months.map((m) => [monthLabel(m), m]));
  return [...byLabel.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, m]) => m);
}
