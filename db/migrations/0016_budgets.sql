CREATE TABLE `budget_holds` (
	`request_id` text NOT NULL,
	`budget_id` integer NOT NULL,
	`window_start` integer NOT NULL,
	`amount_micros` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`request_id`, `budget_id`)
);
--> statement-breakpoint
CREATE INDEX `budget_holds_expires_at_idx` ON `budget_holds` (`expires_at`);--> statement-breakpoint
CREATE TABLE `budget_reservations` (
	`request_id` text PRIMARY KEY NOT NULL,
	`amount_micros` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `budget_reservations_expires_at_idx` ON `budget_reservations` (`expires_at`);--> statement-breakpoint
CREATE TABLE `budget_usage` (
	`budget_id` integer NOT NULL,
	`window_start` integer NOT NULL,
	`spent_micros` integer DEFAULT 0 NOT NULL,
	`reserved_micros` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`budget_id`, `window_start`)
);
--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`scope` text NOT NULL,
	`scope_id` integer NOT NULL,
	`window` text NOT NULL,
	`limit_micros` integer NOT NULL,
	`created_by` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `budgets_scope_idx` ON `budgets` (`scope`,`scope_id`,`window`);