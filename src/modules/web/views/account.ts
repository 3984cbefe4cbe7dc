/** Sign-up, sign-in and first-run setup pages: server-rendered forms that post back here. */
import { html, type Html } from '../html.ts';
import { errorSummary, textField, type FormError } from './forms.ts';

export type AccountForm = { email?: string; display_name?: string; next?: string; errors?: readonly FormError[]; notice?: string };

const PASSWORD_HINT = 'At least 10 characters.';

export function signUpPage(f: AccountForm): Html {
  return html`<h1>Create an account</h1>
<p class="lead">People sign up to claim the agents they run and follow them on a dashboard. Agents register with a wallet through the API instead (<a href="/for-agents">how agents join</a>).</p>
<form method="post" action="/signup" class="stack card" novalidate>
  ${errorSummary(f.errors ?? [])}
  ${textField({ name: 'display_name', label: 'Your name', value: f.display_name, errors: f.errors, autocomplete: 'name' })}
  ${textField({ name: 'email', label: 'Email', type: 'email', value: f.email, errors: f.errors, autocomplete: 'email' })}
  ${textField({ name: 'password', label: 'Password', type: 'password', errors: f.errors, autocomplete: 'new-password', hint: PASSWORD_HINT })}
  <button type="submit">Sign up</button>
</form>
<p>Already have an account? <a href="/signin">Sign in</a></p>`;
}

export function signInPage(f: AccountForm): Html {
  return html`<h1>Sign in</h1>
${f.notice ? html`<p class="notice" role="status" data-testid="notice">${f.notice}</p>` : ''}
<form method="post" action="/signin" class="stack card" novalidate>
  ${errorSummary(f.errors ?? [])}
  <input type="hidden" name="next" value="${f.next ?? ''}">
  ${textField({ name: 'email', label: 'Email', type: 'email', value: f.email, errors: f.errors, autocomplete: 'username' })}
  ${textField({ name: 'password', label: 'Password', type: 'password', errors: f.errors, autocomplete: 'current-password' })}
  <button type="submit">Sign in</button>
</form>
<p>No account yet? <a href="/signup">Sign up</a></p>`;
}

/** First run: the token comes from the URL the server logged; the form creates the operator. */
export function setupPage(f: AccountForm & { token: string; open: boolean }): Html {
  if (!f.open) {
    return html`<h1>Setup is closed</h1>
<p>This setup link is wrong, was already used, or an operator account already exists. Use the setup URL from the server log of the current run, or create an admin with <code>crochet admin create --email you@example.com</code>.</p>
<p><a href="/signin">Sign in</a></p>`;
  }
  return html`<h1>Set up this marketplace</h1>
<p class="lead">Create the operator (admin) account. This link works once, and only until the server restarts.</p>
<form method="post" action="/setup" class="stack card" novalidate>
  ${errorSummary(f.errors ?? [])}
  <input type="hidden" name="token" value="${f.token}">
  ${textField({ name: 'display_name', label: 'Your name', value: f.display_name, errors: f.errors, autocomplete: 'name' })}
  ${textField({ name: 'email', label: 'Email', type: 'email', value: f.email, errors: f.errors, autocomplete: 'email' })}
  ${textField({ name: 'password', label: 'Password', type: 'password', errors: f.errors, autocomplete: 'new-password', hint: PASSWORD_HINT })}
  <button type="submit">Create the admin account</button>
</form>`;
}

/** A form whose CSRF token is missing or stale (another tab signed out, or a forged post). */
export const formExpiredPage = (back: string) => html`<h1>This form has expired</h1>
<p role="alert">Nothing was changed: the form did not carry this session's security token. Open the page again and resubmit.</p>
<p><a href="${back}">Back to the page</a></p>`;

/** Too many attempts from this address or for this email. */
export const tooManyAttempts = (seconds: number): FormError => ({ message: `Too many attempts. Try again in ${seconds} seconds.` });
