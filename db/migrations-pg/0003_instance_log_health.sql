ALTER TABLE "instances" ADD COLUMN "pending_rows" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "dropped_rows" integer DEFAULT 0 NOT NULL;