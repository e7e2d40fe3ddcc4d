CREATE TABLE `rule_revisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`created_at` integer NOT NULL,
	`author_id` integer,
	`author` text NOT NULL,
	`source` text NOT NULL,
	`document` text NOT NULL
);
