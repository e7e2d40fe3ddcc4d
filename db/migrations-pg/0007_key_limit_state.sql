CREATE TABLE "key_limit_state" (
	"key_id" integer PRIMARY KEY NOT NULL,
	"requests" double precision,
	"tokens" double precision,
	"updated_at" bigint NOT NULL,
	"leases" jsonb DEFAULT '{}'::jsonb NOT NULL
);
