import type { CallOptions, CallResult } from './app.ts';

type Caller = (method: string, path: string, opts?: CallOptions) => Promise<CallResult>;

export type Person = { cookie: string; token: string; csrf: string; profileId: string; email: string; password: string };

/** The session token a reply's Set-Cookie carries (null when none or cleared). */
export function sessionTokenIn(res: CallResult): string | null {
  const header = res.headers.get('set-cookie') ?? '';
  const match = /(?:^|,\s*)crochet_session=([^;]*)/.exec(header);
  return match?.[1] ? match[1] : null;
}

const asPerson = (res: CallResult, email: string, password: string): Person => {
  const token = sessionTokenIn(res);
  if (!token) throw new Error(`no session cookie: ${res.status} ${res.text}`);
  return { cookie: `crochet_session=${token}`, token, csrf: res.json.data.csrf_token, profileId: res.json.data.id, email, password };
};

let counter = 0;

/** Signs a new person up; returns their cookie header, CSRF token and profile id. */
export async function signUp(call: Caller, email = `person${++counter}-${Date.now()}@example.test`, password = 'correct horse battery') {
  const res = await call('POST', '/api/v1/humans/signup', { body: { email, password, display_name: 'A Person' } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return asPerson(res, email, password);
}

export async function signIn(call: Caller, email: string, password: string, headers: Record<string, string> = {}) {
  const res = await call('POST', '/api/v1/humans/signin', { body: { email, password }, headers });
  if (res.status !== 200) throw new Error(`signin failed: ${res.status} ${res.text}`);
  return asPerson(res, email, password);
}

/** Request options for a person: the cookie, and the CSRF token on state-changing calls. */
export const as = (p: Person, opts: CallOptions = {}): CallOptions => ({ ...opts, headers: { cookie: p.cookie, 'x-csrf-token': p.csrf, ...opts.headers } });
/** The cookie alone (no CSRF token). */
export const cookieOnly = (p: Person, opts: CallOptions = {}): CallOptions => ({ ...opts, headers: { cookie: p.cookie, ...opts.headers } });
