CREATE TABLE `gateway_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`buyer_id` text NOT NULL,
	`seller_id` text,
	`listing_id` text NOT NULL,
	`relay_request_id` text,
	`status` text NOT NULL,
	`http_status` integer NOT NULL,
	`seller_status` integer,
	`amount_micro_usd` integer DEFAULT 0 NOT NULL,
	`total_latency_ms` integer NOT NULL,
	`upstream_latency_ms` integer,
	`request_bytes` integer NOT NULL,
	`response_bytes` integer NOT NULL,
	`error_code` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `gateway_requests_buyer` ON `gateway_requests` (`buyer_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `gateway_requests_seller` ON `gateway_requests` (`seller_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `gateway_requests_listing` ON `gateway_requests` (`listing_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `gateway_requests_relay` ON `gateway_requests` (`relay_request_id`);--> statement-breakpoint
CREATE TABLE `paid_responses` (
	`gateway_request_id` text PRIMARY KEY NOT NULL,
	`intent_id` text NOT NULL,
	`buyer_id` text NOT NULL,
	`seller_status` integer NOT NULL,
	`body_sealed` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `paid_responses_expiry` ON `paid_responses` (`expires_at`);--> statement-breakpoint
CREATE TABLE `payment_intents` (
	`id` text PRIMARY KEY NOT NULL,
	`buyer_id` text NOT NULL,
	`seller_id` text NOT NULL,
	`listing_id` text NOT NULL,
	`body_sha256` text NOT NULL,
	`amount_micro_usd` integer NOT NULL,
	`fee_bps` integer NOT NULL,
	`routes` text NOT NULL,
	`status` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`settlement_key` text,
	`settled_network` text,
	`settled_tx_ref` text,
	`settled_at` text,
	`consumed_at` text,
	`gateway_request_id` text,
	`refund_tx_ref` text,
	`refunded_at` text
);
--> statement-breakpoint
CREATE INDEX `payment_intents_buyer` ON `payment_intents` (`buyer_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `payment_intents_status_expiry` ON `payment_intents` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `payment_settlements` (
	`settlement_key` text PRIMARY KEY NOT NULL,
	`intent_id` text NOT NULL,
	`network` text NOT NULL,
	`tx_ref` text NOT NULL,
	`transfer_index` integer NOT NULL,
	`payer` text NOT NULL,
	`amount_atomic` text NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`intent_id`) REFERENCES `payment_intents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `payment_settlements_intent` ON `payment_settlements` (`intent_id`);