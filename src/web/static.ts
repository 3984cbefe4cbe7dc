import { Elysia } from 'elysia';
import { ASSETS, FAVICON, type Asset } from './assets.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

const assetResponse = (asset: Asset) =>
  new Response(asset.body, {
    headers: {
      'content-type': asset.type,
      // Versioned names never change; the others are cached briefly and revalidated.
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      ...SECURITY_HEADERS,
    },
  });

/**
 * Serves the embedded files under /assets/ by exact name only — no paths, so no `..` or NUL
 * tricks — and the favicon at the root, where browsers look for it. Pages are the web module's.
 */
export function staticPlugin() {
  const hidden = { detail: { hide: true } };
  return new Elysia({ name: 'static' })
    .get('/favicon.svg', () => assetResponse(FAVICON), hidden)
    .get('/favicon.ico', () => assetResponse(FAVICON), hidden)
    .get(
      '/assets/:name',
      ({ params }) => {
        const asset = Object.hasOwn(ASSETS, params.name) ? ASSETS[params.name] : undefined;
        if (!asset) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain', ...SECURITY_HEADERS } });
        return assetResponse(asset);
      },
      hidden,
    );
}
