// One unit, one invocation: claim it, run its executor within the subrequest budget, and leave the database
// saying what happens next (done, paused with a checkpoint, failed with its error). The queue consumer and the
// tests' driver both come through here.
import type { Config } from "../config.ts";
import { type IrisHttp, createIrisHttp } from "../iris/iris-http.ts";
import { IrisMappingError } from "../iris/mapping.ts";
import type { Clock } from "../resilience/clock.ts";
import { IrisRejectedError, IrisSchemaError, IrisUnavailableError } from "../resilience/errors.ts";
import type { Logger } from "../resilience/log.ts";
import { QUEUE_BATCH_SIZE, SubrequestBudget, irisCallsPerInvocation } from "./budget.ts";
import { type ExecutorOutcome, type SyncHooks, UnitContext } from "./context.ts";
import { runMerchantsPages, runProcessors } from "./executors/merchants.ts";
import { runResidualRows, runResidualSummary } from "./executors/residuals.ts";
import { runVolumesChunk, runVolumesPlan } from "./executors/volumes.ts";
import type { UnitKind } from "./planner.ts";
import { type ClaimedUnit, LeaseLostError, type SyncDb, claimUnit, failUnit, releaseUnit } from "./runs.ts";
import type { SyncMessage } from "./streams.ts";

const EXECUTORS: Record<UnitKind, (ctx: UnitContext) => Promise<ExecutorOutcome>> = {
  "merchants-pages": runMerchantsPages,
  processors: runProcessors,
  "residual-summary": runResidualSummary,
  "residual-rows": runResidualRows,
  "volumes-plan": runVolumesPlan,
  "volumes-chunk": runVolumesChunk,
};

/** The producer side of the sync queue; a Queue binding, or a recorder in tests. */
export interface UnitQueue {
  sendBatch(messages: Iterable<MessageSendRequest<SyncMessage>>): Promise<unknown>;
}

export interface InvocationDeps {
  db: SyncDb;
  config: Config;
  queue: UnitQueue;
  clock: Clock;
  random: () => number;
  log: Logger;
  namespace: Env["CIRCUIT_BREAKER"];
  /** Sent to IRIS as X-Invocation-Id; one per Worker invocation. */
  invocationId: string;
  defer?: (work: Promise<unknown>) => void;
  hooks?: SyncHooks;
  /** Injected by tests that count or fail IRIS requests themselves. */
  iris?: IrisHttp;
  /** The invocation's budget when it runs more than one unit; a fresh one otherwise. */
  budget?: SubrequestBudget;
}

export type UnitRunResult =
  | { outcome: "done" | "failed" | "paused"; unitId: number; enqueued: number[]; subrequests: number }
  | { outcome: "not-claimed" | "lease-lost"; unitId: number; enqueued: number[]; subrequests: number }
  | { outcome: "circuit-open"; unitId: number; retryAfterSeconds: number; enqueued: number[]; subrequests: number };

/** The budget a fresh invocation starts with; throws when the settings leave no room for a single IRIS call. */
export function newBudget(config: Config): SubrequestBudget {
  if (irisCallsPerInvocation(config.sync.subrequestBudget, config.maxRetries) < 1) {
    throw new Error(
      `SYNC_SUBREQUEST_BUDGET=${config.sync.subrequestBudget} leaves no room for one IRIS call with IRIS_MAX_RETRIES=${config.maxRetries}`,
    );
  }
  return new SubrequestBudget({ limit: config.sync.subrequestBudget, maxRetries: config.maxRetries });
}

/**
 * Sends a message per unit, a hundred per call, as far as the budget allows. Units left unsent keep their
 * enqueued_at, so the sweep sends them once they look lost.
 */
export async function enqueueUnits(queue: UnitQueue, ids: readonly number[], budget: SubrequestBudget | null, log: Logger): Promise<number[]> {
  const sent: number[] = [];
  for (let i = 0; i < ids.length; i += QUEUE_BATCH_SIZE) {
    if (budget && !budget.canAfford(1)) {
      log("sync.enqueue_deferred", { units: ids.length - sent.length });
      break;
    }
    const part = ids.slice(i, i + QUEUE_BATCH_SIZE);
    budget?.charge(1);
    await queue.sendBatch(part.map((unitId) => ({ body: { type: "unit", unitId } satisfies SyncMessage })));
    sent.push(...part);
  }
  return sent;
}

/** Why a unit failed, for its error column and the stream's last_error: short, and never a secret. */
export function describeFailure(error: unknown): string {
  if (error instanceof IrisUnavailableError) return error.message;
  if (error instanceof IrisRejectedError) return error.message;
  if (error instanceof IrisSchemaError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  return String(error).slice(0, 500);
}

/** Failures that repeating the unit cannot fix soon: the unit is recorded failed and the run goes on. */
function isUnitFailure(error: unknown): boolean {
  return (
    (error instanceof IrisUnavailableError && error.reason !== "circuit_open") ||
    error instanceof IrisRejectedError ||
    error instanceof IrisSchemaError ||
    error instanceof IrisMappingError ||
    error instanceof RangeError
  );
}

export async function executeUnit(deps: InvocationDeps, unitId: number): Promise<UnitRunResult> {
  const { db, config, clock, log } = deps;
  const budget = deps.budget ?? newBudget(config);
  const now = () => new Date(clock.now());
  const unitLog: Logger = (event, fields) => log(event, { invocationId: deps.invocationId, unitId, ...fields });
  const base = () => ({ unitId, subrequests: budget.spent });

  const unit = await claimUnit(db, unitId, now(), config.sync.unitLeaseSeconds * 1000);
  if (!unit) return { outcome: "not-claimed", enqueued: [], ...base() };
  const executor = EXECUTORS[unit.kind as UnitKind];
  const iris =
    deps.iris ??
    createIrisHttp({
      config,
      namespace: deps.namespace,
      clock,
      random: deps.random,
      log: unitLog,
      invocationId: deps.invocationId,
      ...(deps.defer ? { defer: deps.defer } : {}),
    });
  const ctx = new UnitContext({ unit, db, iris, config, budget, clock, log: unitLog, ...(deps.hooks ? { hooks: deps.hooks } : {}) });

  let outcome: ExecutorOutcome;
  try {
    if (!executor) throw new RangeError(`unknown unit kind ${unit.kind}`);
    outcome = await executor(ctx);
  } catch (error) {
    return handleError(deps, unit, error, budget, unitLog);
  }
  if (outcome.status === "paused") {
    // Out of budget: the checkpoint is committed; a fresh invocation continues from it.
    if (!(await releaseUnit(db, unit, now()))) return { outcome: "lease-lost", enqueued: [], ...base() };
    const enqueued = await enqueueUnits(deps.queue, [unit.id], budget, unitLog);
    unitLog("sync.unit_paused", { kind: unit.kind, subrequests: budget.spent });
    return { outcome: "paused", enqueued, ...base() };
  }
  const enqueued = await enqueueUnits(deps.queue, outcome.finish.enqueue, budget, unitLog);
  unitLog("sync.unit_done", {
    kind: unit.kind,
    followUps: outcome.finish.enqueue.length,
    stream: outcome.finish.streamStatus,
    run: outcome.finish.runStatus,
    subrequests: budget.spent,
  });
  return { outcome: "done", enqueued, ...base() };
}

async function handleError(
  deps: InvocationDeps,
  unit: ClaimedUnit,
  error: unknown,
  budget: SubrequestBudget,
  log: Logger,
): Promise<UnitRunResult> {
  const now = new Date(deps.clock.now());
  const base = { unitId: unit.id, subrequests: budget.spent };
  if (error instanceof LeaseLostError) {
    log("sync.unit_lease_lost", { kind: unit.kind });
    return { outcome: "lease-lost", enqueued: [], ...base };
  }
  if (error instanceof IrisUnavailableError && error.reason === "circuit_open") {
    // Nothing is wrong with the unit: it waits, with its checkpoint, until IRIS is given another chance.
    await releaseUnit(deps.db, unit, now);
    log("sync.unit_waiting_for_circuit", { kind: unit.kind, retryAfterSeconds: error.retryAfterSeconds });
    return { outcome: "circuit-open", retryAfterSeconds: error.retryAfterSeconds, enqueued: [], ...base };
  }
  if (isUnitFailure(error)) {
    const message = describeFailure(error);
    try {
      const finish = await failUnit(deps.db, unit, message, now);
      const enqueued = await enqueueUnits(deps.queue, finish.enqueue, budget, log);
      log("sync.unit_failed", { kind: unit.kind, error: message, stream: finish.streamStatus, run: finish.runStatus });
      return { outcome: "failed", enqueued, ...base };
    } catch (failError) {
      if (failError instanceof LeaseLostError) return { outcome: "lease-lost", enqueued: [], ...base };
      throw failError;
    }
  }
  // Anything else (the database, a bug) is retried through the queue; the unit goes back to pending.
  await releaseUnit(deps.db, unit, now).catch(() => false);
  throw error;
}
