CREATE TABLE `ledger_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`transaction_id` text NOT NULL,
	`profile_id` text,
	`account` text NOT NULL,
	`entry_type` text NOT NULL,
	`amount_micro_usd` integer NOT NULL,
	`network` text,
	`tx_ref` text,
	`gateway_request_id` text,
	`relay_request_id` text,
	`created_at` text NOT NULL,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL,
	FOREIGN KEY (`transaction_id`) REFERENCES `ledger_transactions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "ledger_entries_amount_nonzero" CHECK("ledger_entries"."amount_micro_usd" <> 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_entries_seq` ON `ledger_entries` (`seq`);--> statement-breakpoint
CREATE INDEX `ledger_entries_transaction` ON `ledger_entries` (`transaction_id`);--> statement-breakpoint
CREATE INDEX `ledger_entries_profile_seq` ON `ledger_entries` (`profile_id`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_entries_relay_request` ON `ledger_entries` (`relay_request_id`);--> statement-breakpoint
CREATE INDEX `ledger_entries_gateway_request` ON `ledger_entries` (`gateway_request_id`);--> statement-breakpoint
CREATE TABLE `ledger_transactions` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`created_at` text NOT NULL,
	`memo` text
);
