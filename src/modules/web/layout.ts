/** The page frame every page shares: head, header with the main navigation, footer. */
import { SECURITY_HEADERS } from '../../web/security-headers.ts';
import { VERSION } from '../../version.ts';
import { html, type Html } from './html.ts';

export type NavLink = { href: string; label: string };

/**
 * The header's main links, in order. Kept short so a guest's header (with "Sign in" and "Sign up")
 * stays on one line at 390 px; a signed-in person's account links may wrap below on a phone.
 */
export const NAV_LINKS: readonly NavLink[] = [
  { href: '/', label: 'Browse' },
  { href: '/sell', label: 'Sell' },
  { href: '/for-agents', label: 'For agents' },
  { href: '/api/docs', label: 'API docs' },
];

/** The signed-in person a page is rendered for (null: a guest). */
export type Viewer = { display_name: string; role: 'member' | 'admin'; csrf_token: string };

export type PageOptions = {
  /** Who is signed in: the header's account links and the CSRF meta tag follow it. */
  viewer?: Viewer | null;
  /** The document title (" — Crochet" is appended). */
  title: string;
  /** One line for search engines and link previews. */
  description?: string;
  /** The path this page answers, to mark its header link as current. */
  path: string;
  main: Html;
  status?: number;
  /** Extra links after NAV_LINKS (e.g. "Sign in"), and extra assets for one page. */
  headerLinks?: readonly NavLink[];
  scripts?: readonly string[];
  styles?: readonly string[];
  /** Wider main column (the API docs). */
  wide?: boolean;
  /** Extra response headers (Retry-After on a refused sign-in). */
  headers?: Readonly<Record<string, string>>;
};

const current = (href: string, path: string) => (href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`));

const navItem = (l: NavLink, path: string) => html`<li><a href="${l.href}"${current(l.href, path) ? html` aria-current="page"` : ''}>${l.label}</a></li>`;

/** Guests: sign in / sign up. People: dashboard, admin (operators), and sign-out as a POST form. */
function accountNav(path: string, viewer: Viewer | null | undefined): Html {
  if (!viewer) return html`<nav aria-label="Account"><ul>${[{ href: '/signin', label: 'Sign in' }, { href: '/signup', label: 'Sign up' }].map((l) => navItem(l, path))}</ul></nav>`;
  const links: NavLink[] = [{ href: '/dashboard', label: 'Dashboard' }, ...(viewer.role === 'admin' ? [{ href: '/admin', label: 'Admin' }] : [])];
  return html`<nav aria-label="Account"><ul>${links.map((l) => navItem(l, path))}<li><form method="post" action="/signout" class="signout"><input type="hidden" name="csrf_token" value="${viewer.csrf_token}"><button type="submit" class="link">Sign out</button></form></li></ul></nav>`;
}

function header(path: string, links: readonly NavLink[], viewer: Viewer | null | undefined): Html {
  return html`<header class="site">
  <a class="brand" href="/"><img src="/favicon.svg" alt="" width="22" height="22"><span class="brand-name">Crochet</span></a>
  <div class="navs"><nav aria-label="Main"><ul>${links.map((l) => navItem(l, path))}</ul></nav>
  ${accountNav(path, viewer)}</div>
</header>`;
}

const footer = () => html`<footer class="site">
  <p>Pay-per-call JSON APIs for agents, settled in USDC on chain. Runs Crochet ${VERSION}.</p>
  <p><a href="/score">How the Crochet Score works</a> · <a href="/SKILL.md">SKILL.md</a> · <a href="/llms.txt">llms.txt</a> · <a href="/api/openapi.json">OpenAPI</a> · <a href="/.well-known/agent-protocol.json">Discovery</a></p>
</footer>`;

/** A whole HTML document. */
export function renderPage(o: PageOptions): string {
  const links = [...NAV_LINKS, ...(o.headerLinks ?? [])];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} — Crochet</title>
${o.description ? html`<meta name="description" content="${o.description}">` : ''}
${o.viewer ? html`<meta name="csrf-token" content="${o.viewer.csrf_token}">` : ''}
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
${(o.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">`)}
<script type="module" src="/assets/app.js"></script>
${(o.scripts ?? []).map((src) => html`<script defer src="${src}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header(o.path, links, o.viewer)}
<main id="main"${o.wide ? html` class="wide"` : ''}>
${o.main}
</main>
${footer()}
</body>
</html>
`.value;
}

/**
 * The page as a response: never cached (a new release shows at once), with the security headers.
 * A signed-in person's page (their name, CSRF token, dashboard or console) is never stored at all.
 */
export function pageResponse(o: PageOptions): Response {
  return new Response(renderPage(o), {
    status: o.status ?? 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': o.viewer ? 'private, no-store' : 'no-cache', vary: 'Cookie', ...SECURITY_HEADERS, ...o.headers },
  });
}
