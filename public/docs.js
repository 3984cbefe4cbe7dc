// Starts the embedded Swagger UI on /api/docs (an external file: the CSP allows no inline script).
const root = document.getElementById('swagger-ui');

/** Swagger UI leaves some selects without an accessible name (the server picker): give them one. */
function labelSelects() {
  for (const select of root.querySelectorAll('select:not([aria-label])')) {
    const labelText = [...(select.labels ?? [])].map((l) => l.textContent.trim()).join('');
    if (labelText && select.id !== 'servers') continue;
    select.setAttribute('aria-label', select.id === 'servers' ? 'Server' : 'Choose a value');
  }
}

if (root && typeof window.SwaggerUIBundle === 'function') {
  window.SwaggerUIBundle({
    // Absolute path: the document lives at /api/openapi.json whatever this page's URL is.
    url: root.dataset.specUrl || '/api/openapi.json',
    domNode: root,
    // Deep links put a link inside each operation's toggle button (a control inside a control).
    deepLinking: false,
    // Never send the document to the public validator: the page works with no network.
    validatorUrl: null,
    tryItOutEnabled: false,
    syntaxHighlight: false,
    onComplete: labelSelects,
  });
  // Operations render more selects as they open.
  new MutationObserver(labelSelects).observe(root, { childList: true, subtree: true });
}
