export const SYNC_STREAMS = ["merchants", "residuals", "volumes"] as const;
export type SyncStream = (typeof SYNC_STREAMS)[number];

export const SYNC_DATA_TYPES = ["merchants", "residuals", "volumes", "all"] as const;
export type SyncDataType = (typeof SYNC_DATA_TYPES)[number];

/** The streams a request names; "all" is every stream, in the order they are planned. */
export function streamsFor(dataType: SyncDataType): SyncStream[] {
  return dataType === "all" ? [...SYNC_STREAMS] : [dataType];
}

/**
 * Messages on the sync queue. They are only nudges: the database says what work exists, so a lost message is
 * recovered by the sweep and a duplicate finds nothing to claim. Other message types join this union.
 */
export type SyncMessage =
  | { type: "unit"; unitId: number }
  /** A stored IRIS webhook delivery to process (src/webhooks). */
  | { type: "webhook"; eventId: number };
