CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`profile_id` text NOT NULL,
	`name` text NOT NULL,
	`key_prefix` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` text NOT NULL,
	`last_used_at` text,
	`revoked_at` text,
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_profile` ON `api_keys` (`profile_id`);--> statement-breakpoint
CREATE TABLE `auth_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`nonce` text NOT NULL,
	`purpose` text NOT NULL,
	`chain` text NOT NULL,
	`address_key` text NOT NULL,
	`profile_id` text,
	`message` text NOT NULL,
	`pow_challenge` text NOT NULL,
	`pow_difficulty` integer NOT NULL,
	`expires_at` text NOT NULL,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`consumed_at` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `auth_challenges_nonce` ON `auth_challenges` (`nonce`);--> statement-breakpoint
CREATE INDEX `auth_challenges_expires` ON `auth_challenges` (`expires_at`);--> statement-breakpoint
CREATE TABLE `profiles` (
	`id` text PRIMARY KEY NOT NULL,
	`display_name` text NOT NULL,
	`account_type` text NOT NULL,
	`claimed_by` text,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `wallets` (
	`id` text PRIMARY KEY NOT NULL,
	`profile_id` text NOT NULL,
	`chain` text NOT NULL,
	`address` text NOT NULL,
	`address_key` text NOT NULL,
	`roles` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`default_payout` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`profile_id`) REFERENCES `profiles`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `wallets_chain_address_key` ON `wallets` (`chain`,`address_key`);--> statement-breakpoint
CREATE INDEX `wallets_profile` ON `wallets` (`profile_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `wallets_default_payout` ON `wallets` (`profile_id`,`chain`) WHERE default_payout = 1;