/** Form pieces the account, dashboard and operator pages share: labelled fields, errors, notices. */
import type { ZodError } from 'zod';
import { html, type Html } from '../html.ts';

/** One problem with a form: `field` is the id of the input it concerns (linked from the summary). */
export type FormError = { field?: string; message: string };

/** Zod issues → one error per field, in the form's words (`labels` names each field). */
export function fieldErrors(error: ZodError, labels: Record<string, string>): FormError[] {
  const seen = new Set<string>();
  const out: FormError[] = [];
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? '');
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(labels[name] ? { field: name, message: `${labels[name]}: ${issue.message}.` } : { message: `${issue.message}.` });
  }
  return out;
}

/**
 * The error summary at the top of a form: announced at once (role="alert"), each problem a link
 * to its field, so a keyboard or screen-reader user finds what to fix.
 */
export function errorSummary(errors: readonly FormError[]): Html {
  if (errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" tabindex="-1" data-testid="form-errors">
  <h2>There is a problem</h2>
  <ul>${errors.map((e) => html`<li>${e.field ? html`<a href="#${e.field}">${e.message}</a>` : e.message}</li>`)}</ul>
</div>`;
}

/** A success message after a form's redirect (role="status": read out without moving focus). */
export const notice = (message: string | null | undefined) => (message ? html`<p class="notice" role="status" data-testid="notice">${message}</p>` : html``);

type FieldOptions = { name: string; label: string; type?: string; value?: string; errors?: readonly FormError[]; autocomplete?: string; hint?: string; required?: boolean; extra?: Html; id?: string };

/** A labelled input; an error on it is tied to it with aria-describedby and aria-invalid. */
export function textField(o: FieldOptions): Html {
  const id = o.id ?? o.name;
  const error = o.errors?.find((e) => e.field === id);
  const described = [o.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="${id}">${o.label}</label>
  ${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
  ${error ? html`<p class="field-error" id="${id}-error">${error.message}</p>` : ''}
  <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.required === false ? '' : html` required`}${described ? html` aria-describedby="${described}"` : ''}${error ? html` aria-invalid="true"` : ''}${o.extra ?? ''}>
</div>`;
}

/** The hidden CSRF field every signed-in form carries (the session's token, never the session). */
export const csrfField = (token: string) => html`<input type="hidden" name="csrf_token" value="${token}">`;
