CREATE TABLE `session_pins` (
	`user_id` integer NOT NULL,
	`session_key` text NOT NULL,
	`model` text NOT NULL,
	`tier` text,
	`reason` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `session_key`)
);
--> statement-breakpoint
CREATE INDEX `session_pins_expires_at_idx` ON `session_pins` (`expires_at`);--> statement-breakpoint
CREATE TABLE `stored_responses` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` integer NOT NULL,
	`key_id` integer NOT NULL,
	`model` text NOT NULL,
	`input` text NOT NULL,
	`output` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stored_responses_created_at_idx` ON `stored_responses` (`created_at`);--> statement-breakpoint
CREATE INDEX `stored_responses_user_id_idx` ON `stored_responses` (`user_id`);--> statement-breakpoint
ALTER TABLE `request_log` ADD `door` text DEFAULT 'chat' NOT NULL;--> statement-breakpoint
ALTER TABLE `request_log` ADD `pin` text;