import { Elysia } from 'elysia';
import { ASSETS, SHELL } from './assets.ts';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
};

/**
 * Serves the embedded UI: the HTML shell for its pages (never cached, so a new release shows at
 * once) and the files under /assets/ by exact name only — no paths, so no `..` or NUL tricks.
 */
export function staticPlugin() {
  const shell = () => new Response(SHELL.body, { headers: { 'content-type': SHELL.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS } });
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: 'static' })
    .get('/', shell, hidden)
    .get('/listings/:id', shell, hidden)
    .get('/agents/:id', shell, hidden)
    .get(
      '/assets/:name',
      ({ params, set }) => {
        const asset = Object.hasOwn(ASSETS, params.name) ? ASSETS[params.name] : undefined;
        if (!asset) {
          set.status = 404;
          return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
        }
        // Unhashed names: cache briefly and revalidate.
        return new Response(asset.body, { headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=300', ...SECURITY_HEADERS } });
      },
      hidden,
    );
}
