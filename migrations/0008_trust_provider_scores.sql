-- Provider scores for listing search, now from the trust module's snapshots (same two columns as
-- the placeholder in `listings_search`). A profile without a snapshot still has no row and scores 0.
DROP VIEW IF EXISTS `provider_scores`;
--> statement-breakpoint
CREATE VIEW `provider_scores` AS SELECT `profile_id`, `score` FROM `score_snapshots`;
