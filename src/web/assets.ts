// The UI files, embedded in the executable through text imports (`bun build --compile` bundles them).
import swaggerUiCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'text' };
import swaggerUiBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'text' };
import swaggerUiPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import appCss from '../../public/app.css' with { type: 'text' };
import appJs from '../../public/app.js' with { type: 'text' };
import docsCss from '../../public/docs.css' with { type: 'text' };
import docsJs from '../../public/docs.js' with { type: 'text' };
import favicon from '../../public/favicon.svg' with { type: 'text' };

/** `immutable`: the name carries the version, so browsers may keep it for a year. */
export type Asset = { body: string; type: string; immutable?: boolean };

/** The docs UI's files, named with their pinned version (a new version is a new URL). */
export const SWAGGER_UI = {
  script: `/assets/swagger-ui-bundle-${swaggerUiPackage.version}.js`,
  style: `/assets/swagger-ui-${swaggerUiPackage.version}.css`,
};

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Files under /assets/, by name. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  'app.js': { body: appJs, type: JS },
  'app.css': { body: appCss, type: CSS },
  'docs.js': { body: docsJs, type: JS },
  'docs.css': { body: docsCss, type: CSS },
  'favicon.svg': { body: favicon, type: 'image/svg+xml' },
  [SWAGGER_UI.script.slice('/assets/'.length)]: { body: swaggerUiBundle, type: JS, immutable: true },
  [SWAGGER_UI.style.slice('/assets/'.length)]: { body: swaggerUiCss, type: CSS, immutable: true },
};

export const FAVICON: Asset = ASSETS['favicon.svg'] as Asset;
