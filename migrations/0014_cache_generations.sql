-- Processes sharing a data folder each keep API keys and gateway targets (listing + endpoint,
-- secrets opened) in memory (SPEC §5 item 9). Every write that can change what those caches hold
-- bumps a counter here, inside the writing transaction, whoever writes it (another server process,
-- a CLI command such as `vault rotate-key`, a manual fix). Each process re-reads this one row at
-- most every 100 ms and drops a cache whose counter moved (src/db/change-watch.ts).
-- Only the columns the caches read fire a trigger: `last_used_at` and the listing usage stats are
-- written by the request path and must not empty every cache.
CREATE TABLE `cache_generations` (
	`id` integer PRIMARY KEY NOT NULL CHECK (`id` = 1),
	`api_keys` integer DEFAULT 0 NOT NULL,
	`gateway_targets` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
INSERT INTO `cache_generations` (`id`) VALUES (1);
--> statement-breakpoint
CREATE TRIGGER `api_keys_cache_update` AFTER UPDATE OF `revoked_at`, `key_hash`, `profile_id` ON `api_keys`
BEGIN
	UPDATE `cache_generations` SET `api_keys` = `api_keys` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `api_keys_cache_delete` AFTER DELETE ON `api_keys`
BEGIN
	UPDATE `cache_generations` SET `api_keys` = `api_keys` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `profiles_cache_update` AFTER UPDATE OF `status`, `account_type` ON `profiles`
BEGIN
	UPDATE `cache_generations` SET `api_keys` = `api_keys` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `profiles_cache_delete` AFTER DELETE ON `profiles`
BEGIN
	UPDATE `cache_generations` SET `api_keys` = `api_keys` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `listings_cache_update` AFTER UPDATE OF `id`, `owner_profile_id`, `status`, `pricing_model`, `price_micro_usd` ON `listings`
BEGIN
	UPDATE `cache_generations` SET `gateway_targets` = `gateway_targets` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `listings_cache_delete` AFTER DELETE ON `listings`
BEGIN
	UPDATE `cache_generations` SET `gateway_targets` = `gateway_targets` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `endpoints_cache_update` AFTER UPDATE OF `listing_id`, `private_url`, `upstream_auth_header_name`, `upstream_auth_value`,
	`signing_secret`, `previous_signing_secret`, `previous_secret_expires_at`, `timeout_ms`, `max_request_bytes`, `max_response_bytes`, `status`
	ON `listing_gateway_endpoints`
BEGIN
	UPDATE `cache_generations` SET `gateway_targets` = `gateway_targets` + 1 WHERE `id` = 1;
END;
--> statement-breakpoint
CREATE TRIGGER `endpoints_cache_delete` AFTER DELETE ON `listing_gateway_endpoints`
BEGIN
	UPDATE `cache_generations` SET `gateway_targets` = `gateway_targets` + 1 WHERE `id` = 1;
END;
