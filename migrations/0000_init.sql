CREATE TABLE "merchant_batches" (
	"mid" text NOT NULL,
	"batch_date" date NOT NULL,
	"reference_number" text NOT NULL,
	"amount" numeric(14, 2),
	"count" integer,
	"terminal_number" text,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "merchant_batches_pkey" PRIMARY KEY("mid","batch_date","reference_number")
);
--> statement-breakpoint
CREATE TABLE "merchants" (
	"mid" text PRIMARY KEY NOT NULL,
	"name" text,
	"status" text,
	"active" boolean,
	"processor" text,
	"group_name" text,
	"datasource" text,
	"sic_code" text,
	"vim" text,
	"opened" date,
	"closed" date,
	"first_batch" date,
	"last_batch" date,
	"deactivated" date,
	"created" timestamp with time zone,
	"modified" timestamp with time zone,
	"lead_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processors" (
	"name" text PRIMARY KEY NOT NULL,
	"processor_id" integer,
	"datasources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processors_processor_id_key" UNIQUE("processor_id")
);
--> statement-breakpoint
CREATE TABLE "residual_summaries" (
	"processor_id" integer NOT NULL,
	"year" smallint NOT NULL,
	"month" smallint NOT NULL,
	"processor_name" text,
	"merchants_count" integer,
	"sum_transactions" bigint,
	"sum_sales_amount" numeric(14, 2),
	"sum_income" numeric(14, 2),
	"sum_expense" numeric(14, 2),
	"sum_net" numeric(14, 2),
	"sum_bps" numeric(12, 4),
	"sum_agent_net" numeric(14, 2),
	"modified" timestamp with time zone,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "residual_summaries_pkey" PRIMARY KEY("processor_id","year","month"),
	CONSTRAINT "residual_summaries_month_check" CHECK ("residual_summaries"."month" between 1 and 12)
);
--> statement-breakpoint
CREATE TABLE "residuals" (
	"mid" text NOT NULL,
	"processor_id" integer NOT NULL,
	"year" smallint NOT NULL,
	"month" smallint NOT NULL,
	"merchant_name" text,
	"transactions" integer,
	"sales_amount" numeric(14, 2),
	"income" numeric(14, 2),
	"expense" numeric(14, 2),
	"net" numeric(14, 2),
	"bps" numeric(12, 4),
	"percentage" numeric(12, 4),
	"agent_net" numeric(14, 2),
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "residuals_pkey" PRIMARY KEY("mid","processor_id","year","month"),
	CONSTRAINT "residuals_month_check" CHECK ("residuals"."month" between 1 and 12)
);
--> statement-breakpoint
CREATE TABLE "sync_run_streams" (
	"run_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"pages" integer DEFAULT 0 NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"rows_upserted" integer DEFAULT 0 NOT NULL,
	"rows_deleted" integer DEFAULT 0 NOT NULL,
	"units_total" integer DEFAULT 0 NOT NULL,
	"units_done" integer DEFAULT 0 NOT NULL,
	"units_failed" integer DEFAULT 0 NOT NULL,
	"cursor_before" text,
	"cursor_after" text,
	"last_error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "sync_run_streams_pkey" PRIMARY KEY("run_id","stream"),
	CONSTRAINT "sync_run_streams_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'partial', 'failed', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "sync_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trigger" text NOT NULL,
	"mode" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"streams" text[] NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "sync_runs_trigger_check" CHECK (trigger in ('cron', 'manual', 'webhook', 'backfill')),
	CONSTRAINT "sync_runs_mode_check" CHECK (mode in ('incremental', 'full')),
	CONSTRAINT "sync_runs_status_check" CHECK (status in ('queued', 'running', 'succeeded', 'partial', 'failed', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"stream" text PRIMARY KEY NOT NULL,
	"cursor" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_units" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sync_units_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"run_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"kind" text NOT NULL,
	"unit_key" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_units_status_check" CHECK (status in ('pending', 'running', 'done', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "webhook_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"request_id" bigint NOT NULL,
	"event" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"payload" jsonb,
	"status" text DEFAULT 'received' NOT NULL,
	"processed_at" timestamp with time zone,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "webhook_events_request_id_key" UNIQUE("request_id"),
	CONSTRAINT "webhook_events_status_check" CHECK (status in ('received', 'queued', 'processed', 'ignored', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "sync_run_streams" ADD CONSTRAINT "sync_run_streams_run_id_sync_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_units" ADD CONSTRAINT "sync_units_run_id_sync_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "merchant_batches_batch_date_idx" ON "merchant_batches" USING btree ("batch_date");--> statement-breakpoint
CREATE INDEX "merchants_modified_idx" ON "merchants" USING btree ("modified");--> statement-breakpoint
CREATE INDEX "merchants_status_idx" ON "merchants" USING btree ("status");--> statement-breakpoint
CREATE INDEX "merchants_processor_idx" ON "merchants" USING btree ("processor");--> statement-breakpoint
CREATE INDEX "merchants_lower_name_idx" ON "merchants" USING btree (lower("name") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "residual_summaries_year_month_idx" ON "residual_summaries" USING btree ("year","month");--> statement-breakpoint
CREATE INDEX "residuals_year_month_processor_idx" ON "residuals" USING btree ("year","month","processor_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_run_streams_one_active_per_stream" ON "sync_run_streams" USING btree ("stream") WHERE status in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "sync_runs_created_at_idx" ON "sync_runs" USING btree ("created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "sync_units_run_unit_key_idx" ON "sync_units" USING btree ("run_id","unit_key");--> statement-breakpoint
CREATE INDEX "sync_units_run_status_idx" ON "sync_units" USING btree ("run_id","status");--> statement-breakpoint
CREATE INDEX "webhook_events_status_received_at_idx" ON "webhook_events" USING btree ("status","received_at");