CREATE TABLE `x402_claims` (
	`claim_key` text PRIMARY KEY NOT NULL,
	`intent_id` text NOT NULL,
	`buyer_id` text NOT NULL,
	`network` text NOT NULL,
	`payer` text NOT NULL,
	`payload_sha256` text NOT NULL,
	`payment_id` text,
	`state` text NOT NULL,
	`transaction` text,
	`error_reason` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `x402_claims_payload` ON `x402_claims` (`payload_sha256`);--> statement-breakpoint
CREATE UNIQUE INDEX `x402_claims_live_intent` ON `x402_claims` (`intent_id`) WHERE "x402_claims"."state" != 'failed';--> statement-breakpoint
CREATE UNIQUE INDEX `x402_claims_payment_id` ON `x402_claims` (`buyer_id`,`payment_id`) WHERE "x402_claims"."payment_id" IS NOT NULL;