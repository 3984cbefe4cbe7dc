DROP INDEX `payment_settlements_intent`;--> statement-breakpoint
ALTER TABLE `payment_settlements` ADD `surplus` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `payment_settlements` ADD `refund_tx_ref` text;--> statement-breakpoint
ALTER TABLE `payment_settlements` ADD `refunded_at` text;--> statement-breakpoint
CREATE INDEX `payment_settlements_surplus` ON `payment_settlements` (`surplus`,`created_at`) WHERE "payment_settlements"."surplus" = 1;--> statement-breakpoint
CREATE INDEX `payment_settlements_intent` ON `payment_settlements` (`intent_id`);