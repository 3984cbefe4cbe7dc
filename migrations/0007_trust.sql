CREATE TABLE `reviews` (
	`id` text PRIMARY KEY NOT NULL,
	`listing_id` text NOT NULL,
	`seller_id` text NOT NULL,
	`reviewer_id` text NOT NULL,
	`accuracy_rating` integer NOT NULL,
	`reliability_rating` integer NOT NULL,
	`value_rating` integer NOT NULL,
	`title` text NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`gateway_request_id` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reviews_reviewer_listing` ON `reviews` (`reviewer_id`,`listing_id`);--> statement-breakpoint
CREATE INDEX `reviews_listing_created` ON `reviews` (`listing_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `reviews_seller` ON `reviews` (`seller_id`);--> statement-breakpoint
CREATE TABLE `score_events` (
	`id` text PRIMARY KEY NOT NULL,
	`profile_id` text NOT NULL,
	`kind` text NOT NULL,
	`counterparty_id` text NOT NULL,
	`listing_id` text NOT NULL,
	`value_micro_usd` integer DEFAULT 0 NOT NULL,
	`source_type` text NOT NULL,
	`source_id` text NOT NULL,
	`occurred_at` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `score_events_source` ON `score_events` (`source_id`,`kind`);--> statement-breakpoint
CREATE INDEX `score_events_occurred` ON `score_events` (`occurred_at`);--> statement-breakpoint
CREATE INDEX `score_events_profile` ON `score_events` (`profile_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `score_ingest_cursors` (
	`source` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL,
	`row_id` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `score_snapshots` (
	`profile_id` text PRIMARY KEY NOT NULL,
	`score` integer NOT NULL,
	`reliability` integer NOT NULL,
	`accuracy` integer NOT NULL,
	`volume` integer NOT NULL,
	`longevity` integer NOT NULL,
	`reputation` integer NOT NULL,
	`tier` text NOT NULL,
	`verified` integer NOT NULL,
	`events_considered` integer NOT NULL,
	`inputs_hash` text NOT NULL,
	`computed_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `score_snapshots_score` ON `score_snapshots` (`score`);