/**
 * Server-side HTML with escaping by default: a tagged template where every interpolated value is
 * escaped unless it is itself `Html` (made by this tag or, for trusted markup we generate, `raw`).
 * No runtime, no JSX setup, nothing to forget: forgetting `safe` is impossible because there is none.
 *
 * @example html`<h1>${listing.name}</h1>` // "<script>" in the name renders as "&lt;script&gt;"
 */

const HTML_MARK = Symbol('html');

/** A fragment of markup that is already safe to insert. */
export type Html = { readonly [HTML_MARK]: true; readonly value: string };

/** Anything a template may interpolate; arrays are joined, null/undefined/false render nothing. */
export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

const isHtml = (value: unknown): value is Html => typeof value === 'object' && value !== null && HTML_MARK in value;

/** Markup we generated ourselves (never user text). */
export const raw = (value: string): Html => ({ [HTML_MARK]: true, value });

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (isHtml(value)) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i] as Interpolation) + (strings[i + 1] ?? '');
  return raw(out);
}
