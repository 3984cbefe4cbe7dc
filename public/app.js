// Enhancements only: every page works without this file. A button with data-copy copies its
// value to the clipboard (it is rendered hidden, so without script there is no dead button).
for (const button of document.querySelectorAll('button[data-copy]')) {
  const status = button.closest('section')?.querySelector('.copy-status');
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy ?? '');
      if (status) status.textContent = 'Gateway URL copied.';
    } catch {
      if (status) status.textContent = 'Could not copy: select the URL and copy it by hand.';
    }
  });
}

// A form that came back with errors: move focus to its summary, so keyboard and screen-reader
// users start from the list of problems (each links to its field). Without script the summary is
// still announced (role="alert") and sits at the top of the form.
const summary = document.querySelector('.error-summary');
if (summary instanceof HTMLElement) summary.focus();
