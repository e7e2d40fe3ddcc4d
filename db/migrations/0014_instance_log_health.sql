ALTER TABLE `instances` ADD `pending_rows` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `instances` ADD `dropped_rows` integer DEFAULT 0 NOT NULL;