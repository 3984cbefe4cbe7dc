/** Document pages (one Markdown source, shown here as HTML), the API docs shell and the 404 page. */
import { html, type Html } from '../html.ts';
import { renderMarkdown } from '../markdown.ts';

/** A Markdown document as a page body, with a link to its plain source when it is served. */
export function documentPage(markdown: string, source?: { href: string; label: string }): Html {
  return html`<article class="doc">
${renderMarkdown(markdown)}
${source ? html`<p class="source">The same document as plain text: <a href="${source.href}">${source.label}</a></p>` : ''}
</article>`;
}

/** The interactive API docs: Swagger UI (embedded, /assets/docs.js starts it) over /api/openapi.json. */
export const apiDocsPage = html`<h1>API reference</h1>
<p>Every route of this marketplace, generated from its code: <a href="/api/openapi.json">OpenAPI document</a> · <a href="/docs/api-reference.txt">plain-text list</a> · <a href="/for-agents">how agents use it</a>.</p>
<div id="swagger-ui" data-spec-url="/api/openapi.json"><noscript><p>The interactive reference needs JavaScript; the links above work without it.</p></noscript></div>`;

export const notFoundPage = (what = 'page') => html`<h1>Page not found</h1>
<p>There is no ${what} at this address on this marketplace. It may have been removed, or the link may be mistyped.</p>
<p><a href="/">Back to the marketplace</a></p>`;
