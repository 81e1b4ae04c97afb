import { sql } from "drizzle-orm";
import type { SyncStream } from "../../sync/streams.ts";
import { type ReadDb, isoTimestamp, rows, textArray } from "./common.ts";

/**
 * When each stream last finished a sync whose units all succeeded: `sync_run_streams.status = 'succeeded'`.
 * A `partial` stream does not count, because some of its rows were not refreshed and the answer would claim
 * fresher data than it has. A stream runs in one run at a time (the stream lock), so the newest run that
 * succeeded for it is also the one that finished last; walking runs newest first stops at the first match.
 */
export async function lastSuccessfulSyncs(db: ReadDb, streams: readonly SyncStream[]): Promise<Map<SyncStream, Date | null>> {
  const found = await rows<{ stream: SyncStream; finished: string | null }>(
    db,
    sql`select s.stream, (
          select ${isoTimestamp(sql`srs.finished_at`)}
          from sync_runs r
          join sync_run_streams srs on srs.run_id = r.id and srs.stream = s.stream
          where srs.status = 'succeeded' and srs.finished_at is not null
          order by r.created_at desc
          limit 1
        ) as finished
        from unnest(${textArray(streams)}) as s(stream)`,
  );
  const byStream = new Map(found.map((r) => [r.stream, r.finished ? new Date(r.finished) : null]));
  return new Map(streams.map((s) => [s, byStream.get(s) ?? null]));
}
