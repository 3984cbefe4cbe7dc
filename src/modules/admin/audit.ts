import { desc } from 'drizzle-orm';
import { iso } from '../../shared/clock.ts';
import type { CoreDeps } from '../../shared/deps.ts';
import { adminAudit } from '../humans/schema.ts';

/** Appends one admin change (who, what, on what, when); the table refuses UPDATE and DELETE. */
export function audit(deps: CoreDeps, actorProfileId: string, action: string, target: string, details: Record<string, unknown> = {}): void {
  deps.db.db.insert(adminAudit).values({ actorProfileId, action, target, details, createdAt: iso(deps.clock.now()) }).run();
}

/** The latest entries, newest first. */
export function recentAudit(deps: CoreDeps, limit = 50) {
  return deps.db.db
    .select()
    .from(adminAudit)
    .orderBy(desc(adminAudit.seq))
    .limit(limit)
    .all()
    .map((a) => ({ seq: a.seq, actor_profile_id: a.actorProfileId, action: a.action, target: a.target, details: a.details, created_at: a.createdAt }));
}
