import * as Admin from '../../src/modules/admin/service.ts';
import type { TestContext } from './app.ts';
import { signIn } from './humans.ts';

/** Creates an admin (as `crochet admin create` does) and signs them in. */
export async function signInAdmin(t: TestContext, email = `ops-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`) {
  const password = 'operator password';
  await Admin.createAdmin(t.deps, { email, password, display_name: 'Ops' });
  return signIn(t.call, email, password);
}
