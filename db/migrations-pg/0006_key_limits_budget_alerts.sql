CREATE TABLE "budget_alerts" (
	"budget_id" integer NOT NULL,
	"window_start" timestamp (3) with time zone NOT NULL,
	"threshold" integer NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"notified_at" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	CONSTRAINT "budget_alerts_budget_id_window_start_threshold_pk" PRIMARY KEY("budget_id","window_start","threshold")
);
--> statement-breakpoint
ALTER TABLE "gateway_keys" ADD COLUMN "tokens_per_minute" integer;--> statement-breakpoint
ALTER TABLE "gateway_keys" ADD COLUMN "max_concurrent" integer;--> statement-breakpoint
ALTER TABLE "gateway_keys" ADD COLUMN "cache_ttl_seconds" integer;