CREATE TABLE `job_leases` (
	`name` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`until` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `payment_intents` ADD `lease_id` text;--> statement-breakpoint
ALTER TABLE `payment_intents` ADD `lease_until` text;