CREATE TABLE "rate_limit_buckets" (
	"key_id" integer PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"updated_at" bigint NOT NULL
);
