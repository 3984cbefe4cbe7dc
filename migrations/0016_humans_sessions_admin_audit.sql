CREATE TABLE `admin_audit` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`actor_profile_id` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`details` text NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `admin_audit_created` ON `admin_audit` (`created_at`);--> statement-breakpoint
CREATE TABLE `human_accounts` (
	`profile_id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`role` text DEFAULT 'member' NOT NULL,
	`created_at` text NOT NULL,
	`password_changed_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `human_accounts_email` ON `human_accounts` (`email`);--> statement-breakpoint
CREATE INDEX `human_accounts_role` ON `human_accounts` (`role`);--> statement-breakpoint
CREATE TABLE `human_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`profile_id` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`last_seen_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `human_sessions_token` ON `human_sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `human_sessions_profile` ON `human_sessions` (`profile_id`);--> statement-breakpoint
CREATE INDEX `human_sessions_expires` ON `human_sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `instance_settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `auth_challenges` ADD `requested_by` text;
--> statement-breakpoint
-- The admin audit log is append-only like the ledger: the database refuses to rewrite it.
CREATE TRIGGER `admin_audit_no_update` BEFORE UPDATE ON `admin_audit`
BEGIN
	SELECT RAISE(ABORT, 'admin_audit is append-only: UPDATE is not allowed');
END;
--> statement-breakpoint
CREATE TRIGGER `admin_audit_no_delete` BEFORE DELETE ON `admin_audit`
BEGIN
	SELECT RAISE(ABORT, 'admin_audit is append-only: DELETE is not allowed');
END;
--> statement-breakpoint
-- A suspended owner's listings are refused by the gateway: the cached targets carry the owner's
-- status, so a profile status change must empty them in every process too.
CREATE TRIGGER `profiles_status_targets_update` AFTER UPDATE OF `status` ON `profiles`
BEGIN
	UPDATE `cache_generations` SET `gateway_targets` = `gateway_targets` + 1 WHERE `id` = 1;
END;
