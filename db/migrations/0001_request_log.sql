CREATE TABLE `request_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`user_id` integer NOT NULL,
	`key_id` integer NOT NULL,
	`requested_model` text,
	`model` text,
	`upstream_model` text,
	`provider` text,
	`tier` text,
	`rule` text,
	`rules_revision` integer,
	`stream` integer DEFAULT false NOT NULL,
	`status` integer NOT NULL,
	`error_type` text,
	`error` text,
	`attempts` text NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cached_tokens` integer DEFAULT 0 NOT NULL,
	`cache_write_tokens` integer DEFAULT 0 NOT NULL,
	`usage_reported` integer DEFAULT false NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`baseline_cost_usd` real DEFAULT 0 NOT NULL,
	`latency_ms` integer NOT NULL,
	`ttft_ms` integer,
	`features` text,
	`prompt_text` text,
	`system_text` text
);
--> statement-breakpoint
CREATE INDEX `request_log_created_at_idx` ON `request_log` (`created_at`);--> statement-breakpoint
CREATE INDEX `request_log_user_id_idx` ON `request_log` (`user_id`,`id`);