import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's chromium; `.ci/run` installs it when missing. A missing browser fails the run, never skips it. */
export const CHROMIUM_PATH = process.env['CROCHET_CHROMIUM'] ?? '/usr/bin/chromium';
export const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
export type Viewport = (typeof VIEWPORTS)[number];

const SCREENSHOT_DIR = join(import.meta.dir, '../.cache/screenshots');
const AXE_SOURCE = readFileSync(join(import.meta.dir, '../../node_modules/axe-core/axe.min.js'), 'utf8');
// Flags for a shared CI machine: no sandbox (root in a container), no GPU, and nothing that
// phones home (component updates, sync, background networking, QUIC probes).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export type Browser = {
  context: BrowserContext;
  /** Every request to anything but loopback (aborted before it left the machine). */
  offLoopbackRequests: string[];
  /** A new tab at `viewport` whose console errors and page errors are collected. */
  newPage(viewport: Viewport): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
};

/**
 * One chromium (fresh profile) for a whole test file, with clipboard access granted for `origin`
 * and every non-loopback request aborted and recorded.
 */
export async function launchBrowser(origin?: string): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CROCHET_CHROMIUM`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'crochet-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: VIEWPORTS[0].width, height: VIEWPORTS[0].height },
  });
  // Generous: on a shared two-core machine under load a page can take many seconds to load or
  // paint. Missing elements still fail, only later.
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(60_000);
  // Without an origin: the server's port is not known yet when the browser starts.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], origin ? { origin } : {});
  const offLoopbackRequests: string[] = [];
  await context.route(
    (url) => !LOOPBACK_HOSTS.has(url.hostname),
    (route) => {
      offLoopbackRequests.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return {
    context,
    offLoopbackRequests,
    async newPage(viewport) {
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      // Chromium logs a document's own 4xx status as a console error; tests assert those statuses
      // themselves, so only that message for a top-level document is not counted. A failing
      // script, style or image still is.
      const documents = new Set<string>();
      page.on('request', (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) documents.add(r.url());
      });
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() !== 'error') return;
        const where = m.location().url;
        if (documents.has(where) && /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
        page.errors.push(`${m.text()} (${where})`);
      });
      page.on('pageerror', (e) => page.errors.push(`uncaught: ${e.message}`));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type AxeViolation = { id: string; impact: string; help: string; nodes: string[] };

/**
 * axe-core's serious and critical violations on the page as it is now. The script is evaluated
 * through the DevTools protocol, so the page's Content-Security-Policy does not block it.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    type AxeResult = { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves a full-page screenshot under test/.cache/screenshots/<name>-<viewport>.png (git-ignored). */
export async function saveScreenshot(page: Page, name: string, viewport: Viewport): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}-${viewport.name}-${viewport.width}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * With CROCHET_README_SCREENSHOTS=1, also saves the page as docs/screenshots/<name>.png (the
 * README's pictures); otherwise a test run leaves the committed files alone.
 */
export async function saveReadmeScreenshot(page: Page, name: string): Promise<void> {
  if (process.env['CROCHET_README_SCREENSHOTS'] !== '1') return;
  const dir = join(import.meta.dir, '../../docs/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

export type TestPage = Awaited<ReturnType<Browser['newPage']>>;

/**
 * Runs `check` in every tab at once (one tab per viewport) and fails with every width's failure.
 * The tabs render in parallel, which roughly halves a file's time on a two-core CI machine.
 */
export async function atEveryWidth(tabs: TestPage[], check: (page: TestPage, viewport: Viewport) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(VIEWPORTS.map((v, i) => check(tabs[i]!, v)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`at ${VIEWPORTS[i]!.width} px: ${(r.reason as Error).message}`] : []));
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
}
