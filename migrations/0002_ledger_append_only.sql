-- The ledger is append-only (SPEC §5): the database itself refuses to change or remove a row,
-- so no code path (and no careless manual fix) can rewrite the money record. Corrections are
-- new `adjustment` transactions.
CREATE TRIGGER `ledger_entries_no_update` BEFORE UPDATE ON `ledger_entries`
BEGIN
	SELECT RAISE(ABORT, 'ledger_entries is append-only: UPDATE is not allowed');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_entries_no_delete` BEFORE DELETE ON `ledger_entries`
BEGIN
	SELECT RAISE(ABORT, 'ledger_entries is append-only: DELETE is not allowed');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_update` BEFORE UPDATE ON `ledger_transactions`
BEGIN
	SELECT RAISE(ABORT, 'ledger_transactions is append-only: UPDATE is not allowed');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_no_delete` BEFORE DELETE ON `ledger_transactions`
BEGIN
	SELECT RAISE(ABORT, 'ledger_transactions is append-only: DELETE is not allowed');
END;
--> statement-breakpoint
-- INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers (unless
-- recursive_triggers is on), so an insert that collides with an existing row is refused before
-- the replace can happen. Entries must also extend the chain: seq is exactly the next number.
CREATE TRIGGER `ledger_entries_append_only_insert` BEFORE INSERT ON `ledger_entries`
WHEN EXISTS (SELECT 1 FROM `ledger_entries` WHERE `id` = NEW.`id`)
	OR NEW.`seq` IS NOT COALESCE((SELECT MAX(`seq`) FROM `ledger_entries`), 0) + 1
BEGIN
	SELECT RAISE(ABORT, 'ledger_entries is append-only: an insert must add the next seq and a new id');
END;
--> statement-breakpoint
CREATE TRIGGER `ledger_transactions_append_only_insert` BEFORE INSERT ON `ledger_transactions`
WHEN EXISTS (SELECT 1 FROM `ledger_transactions` WHERE `id` = NEW.`id`)
BEGIN
	SELECT RAISE(ABORT, 'ledger_transactions is append-only: an insert must add a new id');
END;
