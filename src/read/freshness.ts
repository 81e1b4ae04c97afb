// How old the data behind an answer is, judged from the last successful sync of each stream it draws on.
import { z } from "zod";
import { SYNC_STREAMS, type SyncStream } from "../sync/streams.ts";

export const FRESHNESS_VERDICTS = ["fresh", "recent", "aging", "stale"] as const;
export type FreshnessVerdict = (typeof FRESHNESS_VERDICTS)[number];

const HOUR_MS = 3_600_000;

/** Upper bounds (exclusive) of each verdict's age; anything older, or never synced, is stale. */
export const FRESHNESS_LIMITS_MS = {
  fresh: 24 * HOUR_MS,
  recent: 72 * HOUR_MS,
  aging: 7 * 24 * HOUR_MS,
} as const;

export interface StreamFreshness {
  /** When the stream last finished a sync with every unit done (ISO 8601), or null when it never has. */
  lastSyncedAt: string | null;
  ageSeconds: number | null;
  verdict: FreshnessVerdict;
}

export interface Freshness {
  /** The worst verdict of the streams below. */
  verdict: FreshnessVerdict;
  checkedAt: string;
  streams: Partial<Record<SyncStream, StreamFreshness>>;
}

export function verdictFor(lastSyncedAt: Date | null, now: number): FreshnessVerdict {
  if (!lastSyncedAt) return "stale";
  // A sync stamped slightly in the future (another machine's clock) is as fresh as one stamped now.
  const age = Math.max(0, now - lastSyncedAt.getTime());
  if (age < FRESHNESS_LIMITS_MS.fresh) return "fresh";
  if (age < FRESHNESS_LIMITS_MS.recent) return "recent";
  if (age < FRESHNESS_LIMITS_MS.aging) return "aging";
  return "stale";
}

export function worstVerdict(verdicts: FreshnessVerdict[]): FreshnessVerdict {
  let worst = 0;
  for (const v of verdicts) worst = Math.max(worst, FRESHNESS_VERDICTS.indexOf(v));
  return FRESHNESS_VERDICTS[worst] ?? "stale";
}

/** Builds the freshness block from each stream's last successful sync. */
export function freshnessReport(lastSynced: ReadonlyMap<SyncStream, Date | null>, now: number): Freshness {
  const streams: Partial<Record<SyncStream, StreamFreshness>> = {};
  for (const [stream, at] of lastSynced) {
    streams[stream] = {
      lastSyncedAt: at ? at.toISOString() : null,
      ageSeconds: at ? Math.max(0, Math.floor((now - at.getTime()) / 1000)) : null,
      verdict: verdictFor(at, now),
    };
  }
  return {
    verdict: worstVerdict(Object.values(streams).map((s) => s.verdict)),
    checkedAt: new Date(now).toISOString(),
    streams,
  };
}

const StreamFreshnessSchema = z.object({
  lastSyncedAt: z.iso.datetime().nullable(),
  ageSeconds: z.int().min(0).nullable(),
  verdict: z.enum(FRESHNESS_VERDICTS),
});

export const FreshnessSchema = z
  .object({
    verdict: z.enum(FRESHNESS_VERDICTS),
    checkedAt: z.iso.datetime(),
    streams: z.partialRecord(z.enum(SYNC_STREAMS), StreamFreshnessSchema),
  })
  .describe(
    "How fresh the data behind this answer is: per stream it draws on, the end of its last sync that finished with every unit done, and a verdict: fresh under 24 h, recent under 72 h, aging under 7 days, stale beyond or never synced. The top verdict is the worst of the streams'.",
  );
