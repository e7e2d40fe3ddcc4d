CREATE TABLE `latency_daily` (
	`day` integer NOT NULL,
	`user_id` integer NOT NULL,
	`bucket` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`day`, `user_id`, `bucket`)
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`day` integer NOT NULL,
	`user_id` integer NOT NULL,
	`key_id` integer NOT NULL,
	`model` text NOT NULL,
	`provider` text NOT NULL,
	`tier` text NOT NULL,
	`requests` integer NOT NULL,
	`errors` integer NOT NULL,
	`cost_usd` real NOT NULL,
	`baseline_cost_usd` real NOT NULL,
	`prompt_tokens` integer NOT NULL,
	`completion_tokens` integer NOT NULL,
	`cached_tokens` integer NOT NULL,
	`latency_ms_sum` integer NOT NULL,
	`unpriced` integer NOT NULL,
	`missing_usage` integer NOT NULL,
	PRIMARY KEY(`day`, `user_id`, `key_id`, `model`, `tier`)
);
--> statement-breakpoint
CREATE INDEX `request_log_key_id_idx` ON `request_log` (`key_id`,`id`);--> statement-breakpoint
CREATE INDEX `request_log_model_idx` ON `request_log` (`model`,`id`);--> statement-breakpoint
CREATE INDEX `request_log_tier_idx` ON `request_log` (`tier`,`id`);--> statement-breakpoint
CREATE INDEX `request_log_status_idx` ON `request_log` (`status`,`id`);