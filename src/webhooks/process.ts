// Processing one stored delivery, from its queue message: claim it, act on it (start or find the sync run that
// re-reads what it names, or refresh the merchants behind its leads), and record what was done. An event waits
// (its message is retried later) while the circuit is open or while a run that started before it holds the stream
// it needs; it is never dropped.
import { sql } from "drizzle-orm";
import type { z } from "zod";
import type { Config } from "../config.ts";
import type { NewMerchant } from "../db/schema.ts";
import { upsertMerchants } from "../db/writes.ts";
import { type IrisHttp, createIrisHttp } from "../iris/iris-http.ts";
import { leadMerchantMid, merchantDetailToRow } from "../iris/mapping.ts";
import { irisLeadDetailSchema, irisMerchantDetailSchema } from "../iris/schemas.ts";
import type { Clock } from "../resilience/clock.ts";
import { IrisUnavailableError } from "../resilience/errors.ts";
import type { Logger } from "../resilience/log.ts";
import { type SubrequestBudget, irisCallsPerInvocation } from "../sync/budget.ts";
import { type UnitQueue, describeFailure, newBudget } from "../sync/execute.ts";
import { type YearMonth, monthLabel } from "../sync/planner.ts";
import { SyncBusyError, type SyncDb } from "../sync/runs.ts";
import type { SyncMessage, SyncStream } from "../sync/streams.ts";
import { startRun } from "../sync/triggers.ts";
import { BUSY_RETRY_SECONDS, MAX_PROCESSING_ATTEMPTS, type WebhookPlan, planWebhook } from "./events.ts";
import { redeliveryDelaySeconds } from "../resilience/backoff.ts";
import { type ClaimedEvent, claimEvent, deferEvent, finishEvent, noteDeadLetter } from "./store.ts";

export interface WebhookDeps {
  db: SyncDb;
  config: Config;
  queue: UnitQueue;
  clock: Clock;
  log: Logger;
  iris: IrisHttp;
  /** The invocation's subrequests; IRIS calls and breaker reads are charged to it. */
  budget: SubrequestBudget;
}

export type WebhookOutcome =
  | { outcome: "processed"; eventId: number; runId: string | null; result: Record<string, unknown> }
  | { outcome: "ignored"; eventId: number; reason: string }
  | { outcome: "failed"; eventId: number; error: string }
  | { outcome: "deferred"; eventId: number; retryAfterSeconds: number; reason: string }
  /** Already done, or held by another invocation: a duplicate message. */
  | { outcome: "not-claimed"; eventId: number };

type Step = { done: true; runId: string | null; result: Record<string, unknown> } | { done: false; retryAfterSeconds: number; reason: string };

const wait = (retryAfterSeconds: number, reason: string): Step => ({ done: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)), reason });

/** Claims and processes one event. Unexpected errors are recorded on the event and it is tried again later. */
export async function processWebhookEvent(deps: WebhookDeps, eventId: number): Promise<WebhookOutcome> {
  const now = () => new Date(deps.clock.now());
  const claim = await claimEvent(deps.db, eventId, now(), deps.config.sync.unitLeaseSeconds * 1000);
  if (!claim) return { outcome: "not-claimed", eventId };
  const log: Logger = (event, fields) => deps.log(event, { eventId, hookRequestId: claim.requestId, webhook: claim.event, ...fields });

  const body = (claim.payload ?? {}) as { data?: unknown };
  const planned = planWebhook(claim.event, body.data);
  if (!planned.ok) {
    // Checked on receipt already; a stored payload that no longer reads means the rules changed since.
    const error = `unreadable payload: ${planned.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`.slice(0, 2000);
    await finishEvent(deps.db, claim, { status: "failed", error }, now());
    log("webhook.failed", { error });
    return { outcome: "failed", eventId, error };
  }
  const plan = planned.plan;
  if (plan.action === "ignore" || plan.action === "ping") {
    const reason = plan.action === "ping" ? "subscription test" : plan.reason;
    await finishEvent(deps.db, claim, plan.action === "ping" ? { status: "processed", result: { ping: true } } : { status: "ignored", result: { reason } }, now());
    return plan.action === "ping" ? { outcome: "processed", eventId, runId: null, result: { ping: true } } : { outcome: "ignored", eventId, reason };
  }

  let step: Step;
  try {
    step = plan.action === "residuals" ? await refreshResidualMonths(deps, claim, plan.months, log) : await refreshLeads(deps, claim, plan, log);
  } catch (error) {
    const message = describeError(error);
    const errors = claim.errors + 1;
    if (errors >= MAX_PROCESSING_ATTEMPTS) {
      await finishEvent(deps.db, claim, { status: "failed", error: message, result: { errors } }, now());
      log("webhook.failed", { error: message, errors });
      return { outcome: "failed", eventId, error: message };
    }
    const retryAfterSeconds = redeliveryDelaySeconds(errors);
    await deferEvent(deps.db, claim, now(), retryAfterSeconds, message);
    log("webhook.processing_error", { error: message, errors, retryAfterSeconds });
    return { outcome: "deferred", eventId, retryAfterSeconds, reason: message };
  }
  if (!step.done) {
    await deferEvent(deps.db, claim, now(), step.retryAfterSeconds, null);
    log("webhook.waiting", { reason: step.reason, retryAfterSeconds: step.retryAfterSeconds });
    return { outcome: "deferred", eventId, retryAfterSeconds: step.retryAfterSeconds, reason: step.reason };
  }
  log("webhook.processed", { runId: step.runId });
  return { outcome: "processed", eventId, runId: step.runId, result: step.result };
}

// ---------------------------------------------------------------------------------------------------------------
// Residual reports: one residuals run per month, shared by every event about that month received before it.

/**
 * A run that re-reads `month` and was created after `since`: everything IRIS published before the event was
 * received is in what it reads. (Strictly after: a run created in the same millisecond may have been planned
 * before the delivery arrived.) A stream that ended failed (superseded, say) covers nothing.
 */
async function coveringRun(db: SyncDb, stream: SyncStream, since: Date, month: string | null): Promise<string | null> {
  const result = await db.execute<{ id: string }>(sql`
    select r.id from sync_runs r
    join sync_run_streams s on s.run_id = r.id and s.stream = ${stream}
    where r.created_at > ${since.toISOString()} and s.status in ('queued', 'running', 'succeeded')
      and (${month}::text is null or r.params->'residualMonths' @> jsonb_build_array(${month}::text))
    order by r.created_at, r.id
    limit 1`);
  return result.rows[0]?.id ?? null;
}

/** Seconds until the circuit lets IRIS calls through again; 0 when it does now. */
async function circuitWait(deps: WebhookDeps): Promise<number> {
  deps.budget.charge(1);
  const view = await deps.iris.breaker.snapshot();
  return view.status === "open" ? view.retryAfterSeconds : 0;
}

type RunStart = { runId: string } | { waitSeconds: number; reason: string };

/** The run covering the event for `stream` (and `month`): an existing one, or one started now. */
async function coverOrStart(
  deps: WebhookDeps,
  claim: ClaimedEvent,
  stream: SyncStream,
  month: YearMonth | null,
  log: Logger,
): Promise<RunStart> {
  const label = month ? monthLabel(month) : null;
  const existing = await coveringRun(deps.db, stream, claim.receivedAt, label);
  if (existing) return { runId: existing };
  const circuit = await circuitWait(deps);
  if (circuit > 0) return { waitSeconds: circuit, reason: `circuit open for ${circuit}s` };
  try {
    deps.budget.charge(1); // the run's first queue send
    const { runId } = await startRun(
      { db: deps.db, queue: deps.queue, config: deps.config, clock: deps.clock, log },
      {
        trigger: "webhook",
        request: { streams: [stream], mode: "incremental", ...(month ? { year: month.year, month: month.month } : {}) },
        params: { webhookEventId: claim.id, requestId: claim.requestId, event: claim.event },
      },
    );
    return { runId };
  } catch (error) {
    if (!(error instanceof SyncBusyError)) throw error;
    // Another event may have just started the run this one needs.
    const raced = await coveringRun(deps.db, stream, claim.receivedAt, label);
    if (raced) return { runId: raced };
    return { waitSeconds: BUSY_RETRY_SECONDS, reason: `run ${error.runId} holds ${error.stream} and started before the event` };
  }
}

async function refreshResidualMonths(deps: WebhookDeps, claim: ClaimedEvent, months: readonly YearMonth[], log: Logger): Promise<Step> {
  const runs: Record<string, string> = {};
  let last: string | null = null;
  // One residuals run holds the stream at a time, so the months of a multi-month event are covered one by one;
  // months already covered are found again (by their run's creation time) when the event comes back.
  for (const month of months) {
    const cover = await coverOrStart(deps, claim, "residuals", month, log);
    if ("waitSeconds" in cover) return wait(cover.waitSeconds, `${monthLabel(month)}: ${cover.reason}`);
    runs[monthLabel(month)] = cover.runId;
    last = cover.runId;
  }
  const result = { months: Object.keys(runs), runs };
  if (!(await finishEvent(deps.db, claim, { status: "processed", runId: last, result }, new Date(deps.clock.now())))) {
    log("webhook.claim_lost");
  }
  return { done: true, runId: last, result };
}

// ---------------------------------------------------------------------------------------------------------------
// Leads: lead detail → mid → merchant detail → upsert. Without a mid, or when IRIS cannot say, an incremental
// merchants run stands in.

/** Leads whose merchant another event refreshed (read from IRIS) after `since`. */
async function leadsRefreshedSince(db: SyncDb, leadIds: readonly number[], since: Date): Promise<Set<number>> {
  if (leadIds.length === 0) return new Set();
  const result = await db.execute<{ lead: string }>(sql`
    select distinct l.lead from webhook_events e, jsonb_array_elements_text(e.result->'leadsRefreshed') as l(lead)
    where e.status = 'processed' and e.processed_at > ${since.toISOString()}
      and (e.result->>'refreshedAt')::timestamptz > ${since.toISOString()}
      and l.lead = any(${sql.param(leadIds.map(String))}::text[])`);
  return new Set(result.rows.map((r) => Number(r.lead)));
}

async function irisGet<T>(deps: WebhookDeps, path: string, schema: z.ZodType<T>): Promise<T> {
  const before = deps.iris.attempts;
  try {
    return await deps.iris.get(path, { schema });
  } finally {
    deps.budget.chargeIrisCall(deps.iris.attempts - before);
  }
}

async function refreshLeads(deps: WebhookDeps, claim: ClaimedEvent, plan: Extract<WebhookPlan, { action: "leads" }>, log: Logger): Promise<Step> {
  const now = () => new Date(deps.clock.now());
  const covered = await leadsRefreshedSince(deps.db, plan.leadIds, claim.receivedAt);
  const leads = plan.leadIds.filter((id) => !covered.has(id));
  const coveredLeads = plan.leadIds.filter((id) => covered.has(id));
  const fallbacks: string[] = [];
  const mids = new Set(plan.mids);
  const leadsRefreshed: number[] = [];
  const rows: NewMerchant[] = [];
  const refreshedAt = now();

  const calls = leads.length * 2 + plan.mids.length;
  if (calls > irisCallsPerInvocation(deps.config.sync.subrequestBudget, deps.config.maxRetries)) {
    // More leads than one invocation can look up: the merchants stream finds the changes instead.
    fallbacks.push(`${leads.length} leads are more than one invocation can look up`);
  } else if (calls > 0) {
    const circuit = await circuitWait(deps);
    if (circuit > 0) return wait(circuit, `circuit open for ${circuit}s`);
    for (const leadId of leads) {
      if (!deps.budget.canAffordIrisCall()) return wait(1, "out of subrequests for this invocation");
      try {
        const detail = await irisGet(deps, `/leads/${leadId}`, irisLeadDetailSchema);
        const mid = leadMerchantMid(detail);
        if (mid === null) fallbacks.push(`lead ${leadId} has no merchant`);
        else {
          mids.add(mid);
          leadsRefreshed.push(leadId);
        }
      } catch (error) {
        if (error instanceof IrisUnavailableError && error.reason === "circuit_open") return wait(error.retryAfterSeconds, "circuit open");
        fallbacks.push(`lead ${leadId}: ${describeFailure(error)}`);
      }
    }
    for (const mid of mids) {
      if (!deps.budget.canAffordIrisCall()) return wait(1, "out of subrequests for this invocation");
      try {
        rows.push(merchantDetailToRow(await irisGet(deps, `/merchants/${encodeURIComponent(mid)}`, irisMerchantDetailSchema)));
      } catch (error) {
        if (error instanceof IrisUnavailableError && error.reason === "circuit_open") return wait(error.retryAfterSeconds, "circuit open");
        fallbacks.push(`merchant ${mid}: ${describeFailure(error)}`);
      }
    }
  }

  let runId: string | null = null;
  if (fallbacks.length > 0) {
    const cover = await coverOrStart(deps, claim, "merchants", null, log);
    if ("waitSeconds" in cover) return wait(cover.waitSeconds, `merchants run: ${cover.reason}`);
    runId = cover.runId;
  }
  const result: Record<string, unknown> = {
    leads: plan.leadIds,
    leadsRefreshed,
    merchants: rows.map((r) => r.mid),
    refreshedAt: refreshedAt.toISOString(),
    ...(coveredLeads.length > 0 ? { coveredLeads } : {}),
    ...(fallbacks.length > 0 ? { fallback: fallbacks.slice(0, 20) } : {}),
  };
  const finished = await deps.db.transaction(async (tx) => {
    const written = await upsertMerchants(tx, rows);
    const ok = await finishEvent(tx, claim, { status: "processed", runId, result: { ...result, merchantsWritten: written } }, now());
    // A claim taken over by another invocation must not write: roll the upsert back with it.
    if (!ok) tx.rollback();
    return ok;
  }).catch((error: unknown) => {
    if (isRollback(error)) return false;
    throw error;
  });
  if (!finished) log("webhook.claim_lost");
  return { done: true, runId, result };
}

/** Why processing failed, short. Drizzle wraps driver errors in "Failed query: <sql>"; the driver's says why. */
function describeError(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error && error.message.startsWith("Failed query")) return describeFailure(error.cause);
  return describeFailure(error);
}

function isRollback(error: unknown): boolean {
  return error instanceof Error && error.name === "TransactionRollbackError";
}

// ---------------------------------------------------------------------------------------------------------------
// The queue side.

export function isWebhookMessage(body: unknown): body is Extract<SyncMessage, { type: "webhook" }> {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { type?: unknown }).type === "webhook" &&
    Number.isSafeInteger((body as { eventId?: unknown }).eventId)
  );
}

export interface WebhookMessageContext {
  db: SyncDb;
  config: Config;
  queue: UnitQueue;
  clock: Clock;
  random: () => number;
  log: Logger;
  namespace: Env["CIRCUIT_BREAKER"];
  invocationId: string;
  /** Shared with the other messages of the batch; a fresh one when absent. */
  budget?: SubrequestBudget;
  defer?: (work: Promise<unknown>) => void;
  /** The message came from the dead-letter queue. */
  deadLetter: boolean;
  /** Injected by tests. */
  iris?: IrisHttp;
}

/** The queue consumer's handling of a `{ type: "webhook", eventId }` message: ack, or retry with a delay. */
export async function handleWebhookMessage(message: Message<unknown>, ctx: WebhookMessageContext): Promise<WebhookOutcome | null> {
  const body = message.body as Extract<SyncMessage, { type: "webhook" }>;
  const now = () => new Date(ctx.clock.now());
  if (ctx.deadLetter) {
    await noteDeadLetter(ctx.db, body.eventId, now());
    ctx.log("webhook.dead_lettered", { eventId: body.eventId });
    message.ack();
    return null;
  }
  const budget = ctx.budget ?? newBudget(ctx.config);
  if (!budget.canAffordIrisCall()) {
    message.retry({ delaySeconds: 1 });
    return null;
  }
  const iris =
    ctx.iris ??
    createIrisHttp({
      config: ctx.config,
      namespace: ctx.namespace,
      clock: ctx.clock,
      random: ctx.random,
      log: ctx.log,
      invocationId: ctx.invocationId,
      ...(ctx.defer ? { defer: ctx.defer } : {}),
    });
  try {
    const outcome = await processWebhookEvent({ db: ctx.db, config: ctx.config, queue: ctx.queue, clock: ctx.clock, log: ctx.log, iris, budget }, body.eventId);
    if (outcome.outcome === "deferred") message.retry({ delaySeconds: outcome.retryAfterSeconds });
    else message.ack();
    return outcome;
  } catch (error) {
    // The database, most likely: the event stays open and its message comes back.
    ctx.log("webhook.crashed", { eventId: body.eventId, attempts: message.attempts, error: describeError(error) });
    message.retry({ delaySeconds: redeliveryDelaySeconds(message.attempts) });
    return null;
  }
}
