// The UI files, embedded in the executable through text imports (`bun build --compile` bundles them).
import appCss from '../../public/app.css' with { type: 'text' };
import indexHtml from '../../public/index.html' with { type: 'text' };
import appJs from '../../public/app.js' with { type: 'text' };

export type Asset = { body: string; type: string };

export const SHELL: Asset = { body: indexHtml, type: 'text/html; charset=utf-8' };

/** Files under /assets/, by name. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  'app.js': { body: appJs, type: 'text/javascript; charset=utf-8' },
  'app.css': { body: appCss, type: 'text/css; charset=utf-8' },
};
