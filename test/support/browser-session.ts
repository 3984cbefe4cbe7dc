import { launchBrowser, type Browser } from './browser.ts';
import { startSeededMarket, type SeededMarket } from './browser-seed.ts';

export type BrowserSession = { market: SeededMarket; browser: Browser; stop(): Promise<void> };

/**
 * A seeded server process and a chromium for one test file, started side by side. A missing
 * chromium fails here (the tests fail, never skip), and whatever did start is stopped.
 */
export async function startBrowserSession(): Promise<BrowserSession> {
  const [browser, market] = await Promise.allSettled([launchBrowser(), startSeededMarket()]);
  if (browser.status === 'rejected' || market.status === 'rejected') {
    if (browser.status === 'fulfilled') await browser.value.close();
    if (market.status === 'fulfilled') await market.value.stop();
    throw browser.status === 'rejected' ? browser.reason : (market as PromiseRejectedResult).reason;
  }
  return {
    market: market.value,
    browser: browser.value,
    async stop() {
      await browser.value.close();
      await market.value.stop();
    },
  };
}
