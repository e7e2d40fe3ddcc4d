CREATE TABLE "session_pins" (
	"user_id" integer NOT NULL,
	"session_key" text NOT NULL,
	"model" text NOT NULL,
	"tier" text,
	"reason" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_seen_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "session_pins_user_id_session_key_pk" PRIMARY KEY("user_id","session_key")
);
--> statement-breakpoint
CREATE TABLE "stored_responses" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"key_id" integer NOT NULL,
	"model" text NOT NULL,
	"input" text NOT NULL,
	"output" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "door" text DEFAULT 'chat' NOT NULL;--> statement-breakpoint
ALTER TABLE "request_log" ADD COLUMN "pin" text;--> statement-breakpoint
CREATE INDEX "session_pins_expires_at_idx" ON "session_pins" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "stored_responses_created_at_idx" ON "stored_responses" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "stored_responses_user_id_idx" ON "stored_responses" USING btree ("user_id");