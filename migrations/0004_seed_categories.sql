-- The categories every instance starts with (SPEC §3). Fixed ids so every database agrees.
INSERT INTO `categories` (`id`, `slug`, `name`, `position`, `created_at`) VALUES
	('01a20248-508b-71f1-b13b-9e16bf5fe091', 'ai', 'AI & agents', 1, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-70ff-b0d9-02ad00460fc4', 'data', 'Data & APIs', 2, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7100-b15c-93a2a8a4c8e2', 'research', 'Research', 3, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7101-896b-c24f61cf071a', 'code', 'Code & developer tools', 4, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7102-9b99-cd29f7518ed8', 'finance', 'Finance', 5, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7103-a374-24d6e8afffd9', 'media', 'Media & content', 6, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7104-9bc6-571c69245c4d', 'ops', 'Operations & automation', 7, '2026-01-01T00:00:00.000Z'),
	('01a20248-508c-7105-a433-e64d1b519438', 'other', 'Other', 8, '2026-01-01T00:00:00.000Z');
