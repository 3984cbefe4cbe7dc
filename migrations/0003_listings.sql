CREATE TABLE `categories` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`position` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `categories_slug` ON `categories` (`slug`);--> statement-breakpoint
CREATE TABLE `listing_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`profile_id` text NOT NULL,
	`challenge` text NOT NULL,
	`difficulty` integer NOT NULL,
	`expires_at` text NOT NULL,
	`consumed_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `listing_challenges_profile` ON `listing_challenges` (`profile_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `listing_challenges_expires` ON `listing_challenges` (`expires_at`);--> statement-breakpoint
CREATE TABLE `listing_gateway_endpoints` (
	`listing_id` text PRIMARY KEY NOT NULL,
	`private_url` text,
	`upstream_auth_header_name` text,
	`upstream_auth_value` text,
	`signing_secret` text NOT NULL,
	`secret_prefix` text NOT NULL,
	`secret_rotated_at` text,
	`previous_signing_secret` text,
	`previous_secret_expires_at` text,
	`timeout_ms` integer DEFAULT 15000 NOT NULL,
	`max_request_bytes` integer DEFAULT 262144 NOT NULL,
	`max_response_bytes` integer DEFAULT 1048576 NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`last_test_at` text,
	`last_test_ok` integer,
	`last_test_status` integer,
	`last_test_latency_ms` integer,
	`last_test_json` integer,
	`last_test_error_code` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`listing_id`) REFERENCES `listings`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `listings` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`slug` text NOT NULL,
	`owner_profile_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`category_id` text NOT NULL,
	`tags` text NOT NULL,
	`delivery_type` text DEFAULT 'api' NOT NULL,
	`auth_method` text DEFAULT 'none' NOT NULL,
	`formats` text NOT NULL,
	`connection_instructions` text DEFAULT '' NOT NULL,
	`pricing_model` text NOT NULL,
	`price_micro_usd` integer NOT NULL,
	`pricing_currency` text DEFAULT 'USD' NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`calls_total` integer DEFAULT 0 NOT NULL,
	`calls_succeeded` integer DEFAULT 0 NOT NULL,
	`p50_latency_ms` integer,
	`rating_average` real DEFAULT 0 NOT NULL,
	`rating_count` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`category_id`) REFERENCES `categories`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `listings_id` ON `listings` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `listings_slug` ON `listings` (`slug`);--> statement-breakpoint
CREATE INDEX `listings_owner` ON `listings` (`owner_profile_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `listings_status_created` ON `listings` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `listings_status_calls` ON `listings` (`status`,`calls_total`);--> statement-breakpoint
CREATE INDEX `listings_status_price` ON `listings` (`status`,`price_micro_usd`);--> statement-breakpoint
CREATE INDEX `listings_status_rating` ON `listings` (`status`,`rating_average`,`rating_count`);--> statement-breakpoint
CREATE INDEX `listings_status_category_price` ON `listings` (`status`,`category_id`,`price_micro_usd`);--> statement-breakpoint
CREATE INDEX `listings_status_category_created` ON `listings` (`status`,`category_id`,`created_at`);