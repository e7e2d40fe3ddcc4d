-- Savings count only requests the rules routed: a named model's cost without routing is its own cost.
UPDATE `request_log` SET `baseline_cost_usd` = `cost_usd` WHERE `tier` IS NULL;
--> statement-breakpoint
UPDATE `usage_daily` SET `baseline_cost_usd` = `cost_usd` WHERE `tier` = '';
