CREATE TABLE `budget_alerts` (
	`budget_id` integer NOT NULL,
	`window_start` integer NOT NULL,
	`threshold` integer NOT NULL,
	`created_at` integer NOT NULL,
	`notified_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	PRIMARY KEY(`budget_id`, `window_start`, `threshold`)
);
--> statement-breakpoint
ALTER TABLE `gateway_keys` ADD `tokens_per_minute` integer;--> statement-breakpoint
ALTER TABLE `gateway_keys` ADD `max_concurrent` integer;--> statement-breakpoint
ALTER TABLE `gateway_keys` ADD `cache_ttl_seconds` integer;