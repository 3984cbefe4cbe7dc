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
