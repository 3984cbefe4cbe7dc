-- Full-text search over listings: an external-content FTS5 table (the text lives once, in
-- `listings`) whose rowid is `listings.seq`, kept in sync by the three triggers below.
-- remove_diacritics 2: "meteo" finds "météo".
CREATE VIRTUAL TABLE `listings_fts` USING fts5(
	`name`, `description`, `tags`,
	content='listings', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
);
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_insert` AFTER INSERT ON `listings` BEGIN
	INSERT INTO `listings_fts` (rowid, `name`, `description`, `tags`) VALUES (new.`seq`, new.`name`, new.`description`, new.`tags`);
END;
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_delete` AFTER DELETE ON `listings` BEGIN
	INSERT INTO `listings_fts` (`listings_fts`, rowid, `name`, `description`, `tags`) VALUES ('delete', old.`seq`, old.`name`, old.`description`, old.`tags`);
END;
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_update` AFTER UPDATE OF `name`, `description`, `tags` ON `listings` BEGIN
	INSERT INTO `listings_fts` (`listings_fts`, rowid, `name`, `description`, `tags`) VALUES ('delete', old.`seq`, old.`name`, old.`description`, old.`tags`);
	INSERT INTO `listings_fts` (rowid, `name`, `description`, `tags`) VALUES (new.`seq`, new.`name`, new.`description`, new.`tags`);
END;
--> statement-breakpoint
-- Provider scores as listing search sees them: one row per profile that has a score. Empty until
-- the trust module replaces this view (DROP VIEW + CREATE VIEW over its score snapshots, same two
-- columns); a provider without a row scores 0 — tier low, not verified — which is the truth today.
CREATE VIEW `provider_scores` AS SELECT CAST(NULL AS TEXT) AS `profile_id`, 0 AS `score` WHERE 0;
