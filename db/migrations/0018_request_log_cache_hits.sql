ALTER TABLE `request_log` ADD `cache_hit` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `request_log` ADD `cache_saved_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `usage_daily` ADD `cache_hits` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `usage_daily` ADD `cache_saved_usd` real DEFAULT 0 NOT NULL;