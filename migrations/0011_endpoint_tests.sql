CREATE TABLE `endpoint_tests` (
	`id` text PRIMARY KEY NOT NULL,
	`listing_id` text NOT NULL,
	`owner_profile_id` text NOT NULL,
	`ok` integer NOT NULL,
	`error_code` text,
	`listing_status` text NOT NULL,
	`tested_at` text NOT NULL,
	FOREIGN KEY (`listing_id`) REFERENCES `listings`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `score_events` ADD `listing_status` text;