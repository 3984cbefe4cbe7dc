CREATE INDEX `listings_status_pricing_price` ON `listings` (`status`,`pricing_model`,`price_micro_usd`);--> statement-breakpoint
CREATE INDEX `listings_status_owner` ON `listings` (`status`,`owner_profile_id`);--> statement-breakpoint
CREATE INDEX `listings_status_weighted_rating` ON `listings` (`status`,((rating_average * rating_count + 15.0) / (rating_count + 5)),`rating_count`);