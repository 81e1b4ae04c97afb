CREATE TABLE "sync_unit_pages" (
	"unit_id" bigint NOT NULL,
	"page" integer NOT NULL,
	"rows" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_unit_pages_pkey" PRIMARY KEY("unit_id","page")
);
--> statement-breakpoint
ALTER TABLE "residual_summaries" ADD COLUMN "rows_synced_for" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "checkpoint" jsonb;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "enqueued_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "after_stream" text;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_units" ADD COLUMN "finished_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_unit_pages" ADD CONSTRAINT "sync_unit_pages_unit_id_sync_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."sync_units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_units_open_idx" ON "sync_units" USING btree ("status","enqueued_at") WHERE status in ('pending', 'running');