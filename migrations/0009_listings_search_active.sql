-- Listing search, faster (see src/modules/listings/search.ts):
-- 1. The FTS index now holds ACTIVE listings only, so a text search is counted and ranked inside
--    the index without reading listing rows. The triggers add a row when it becomes active and
--    remove it when it stops being active; the index is rebuilt once from the active rows.
-- 2. `listings_search_filter`: a narrow covering index keyed by seq, so joining FTS matches to
--    their status/category/price/sort columns reads a few small pages instead of whole rows.
DROP TRIGGER `listings_fts_after_insert`;
--> statement-breakpoint
DROP TRIGGER `listings_fts_after_delete`;
--> statement-breakpoint
DROP TRIGGER `listings_fts_after_update`;
--> statement-breakpoint
INSERT INTO `listings_fts` (`listings_fts`) VALUES ('delete-all');
--> statement-breakpoint
INSERT INTO `listings_fts` (rowid, `name`, `description`, `tags`) SELECT `seq`, `name`, `description`, `tags` FROM `listings` WHERE `status` = 'active';
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_insert` AFTER INSERT ON `listings` WHEN new.`status` = 'active' BEGIN
	INSERT INTO `listings_fts` (rowid, `name`, `description`, `tags`) VALUES (new.`seq`, new.`name`, new.`description`, new.`tags`);
END;
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_delete` AFTER DELETE ON `listings` WHEN old.`status` = 'active' BEGIN
	INSERT INTO `listings_fts` (`listings_fts`, rowid, `name`, `description`, `tags`) VALUES ('delete', old.`seq`, old.`name`, old.`description`, old.`tags`);
END;
--> statement-breakpoint
CREATE TRIGGER `listings_fts_after_update` AFTER UPDATE OF `name`, `description`, `tags`, `status` ON `listings` BEGIN
	INSERT INTO `listings_fts` (`listings_fts`, rowid, `name`, `description`, `tags`) SELECT 'delete', old.`seq`, old.`name`, old.`description`, old.`tags` WHERE old.`status` = 'active';
	INSERT INTO `listings_fts` (rowid, `name`, `description`, `tags`) SELECT new.`seq`, new.`name`, new.`description`, new.`tags` WHERE new.`status` = 'active';
END;
--> statement-breakpoint
CREATE INDEX `listings_search_filter` ON `listings` (`seq`, `status`, `category_id`, `pricing_model`, `price_micro_usd`, `calls_total`, `rating_average`, `rating_count`, `created_at`, `owner_profile_id`);
