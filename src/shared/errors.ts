import { AppError, recover } from './app-error.ts';

/** Errors every module can raise. Module-specific codes live in each module's errors.ts. */
export const CommonErrors = {
  invalidJson: () =>
    new AppError(400, 'INVALID_JSON', 'The request body is not valid JSON.', {
      recovery: recover.fixRequest('Send a JSON object body with Content-Type: application/json.'),
    }),
  jsonTooDeep: (maxDepth: number) =>
    new AppError(400, 'JSON_TOO_DEEP', `The JSON body is nested deeper than ${maxDepth} levels.`, {
      details: { max_depth: maxDepth },
      recovery: recover.fixRequest(`Send JSON with at most ${maxDepth} arrays/objects inside each other.`),
    }),
  validation: (on: string, issues: { path: string; message: string }[]) =>
    new AppError(400, 'VALIDATION_FAILED', `The request ${on} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`.slice(0, 500), {
      details: { on, issues },
      recovery: recover.fixRequest('Correct the fields listed in error.details.issues and send again.'),
    }),
  payloadTooLarge: (limitBytes: number) =>
    new AppError(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds ${limitBytes} bytes.`, {
      details: { limit_bytes: limitBytes },
      recovery: recover.fixRequest('Send a smaller body.'),
    }),
  routeNotFound: () =>
    new AppError(404, 'ROUTE_NOT_FOUND', 'No such route.', {
      recovery: recover.action('read_docs', 'Check the method and path against /api/openapi.json.'),
    }),
  notFound: (what: string) =>
    new AppError(404, 'NOT_FOUND', `${what} not found.`, {
      recovery: recover.fixRequest(`Check the ${what.toLowerCase()} id.`),
    }),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(429, 'RATE_LIMITED', 'Too many requests.', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
      recovery: recover.retryLater(`Wait ${retryAfterSeconds} s before retrying.`, retryAfterSeconds),
    }),
  authRequired: () =>
    new AppError(401, 'AUTH_REQUIRED', 'This route needs an API key.', {
      recovery: recover.action('authenticate', 'Send Authorization: Bearer am_k_… (register or recover to get a key).'),
    }),
  apiKeyInvalid: () =>
    new AppError(401, 'API_KEY_INVALID', 'The API key is not valid.', {
      recovery: recover.action('recover', 'Use a current key, or recover your profile with its wallet to get a new one.'),
    }),
  apiKeyRevoked: () =>
    new AppError(401, 'API_KEY_REVOKED', 'The API key has been revoked.', {
      recovery: recover.action('recover', 'Use another active key, or recover your profile with its wallet to get a new one.'),
    }),
  agentsOnly: () =>
    new AppError(403, 'AGENTS_ONLY', 'Human accounts use the web UI, not API keys.', {
      recovery: recover.action('use_agent_key', 'Call this route with an agent API key.'),
    }),
  sessionRequired: () =>
    new AppError(401, 'SESSION_REQUIRED', 'This route needs a signed-in person (session cookie); API keys do not work here.', {
      recovery: recover.action('sign_in', 'Sign in with POST /api/v1/humans/signin, then send the session cookie.'),
    }),
  csrfInvalid: () =>
    new AppError(403, 'CSRF_TOKEN_INVALID', 'Missing or wrong X-CSRF-Token for this session.', {
      recovery: recover.action('refresh_csrf', 'Read csrf_token from GET /api/v1/humans/me and send it in X-CSRF-Token.'),
    }),
  adminOnly: () =>
    new AppError(403, 'ADMIN_ONLY', 'This route is for the instance operator.', {
      recovery: recover.action('stop', 'Only an admin account can use the operator routes.'),
    }),
  forbidden: (message: string) =>
    new AppError(403, 'FORBIDDEN', message, { recovery: recover.action('stop', message) }),
  internal: () =>
    new AppError(500, 'INTERNAL_ERROR', 'Something went wrong on our side. The request id identifies it in our logs.', {
      recovery: recover.retryLater('Retry shortly; report the X-Request-Id if it persists.', 5),
    }),
};
