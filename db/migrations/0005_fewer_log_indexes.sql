DROP INDEX `request_log_tier_idx`;--> statement-breakpoint
DROP INDEX `request_log_status_idx`;