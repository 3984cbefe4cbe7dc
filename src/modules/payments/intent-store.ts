import { eq } from 'drizzle-orm';
import type { CoreDeps } from '../../shared/deps.ts';
import { paymentIntents } from './schema.ts';

/** One payment intent by its relay request id. */
export const getIntent = (deps: CoreDeps, id: string) => deps.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)).get();
