// Starts the embedded Swagger UI on /api/docs (an external file: the CSP allows no inline script).
const root = document.getElementById('swagger-ui');
if (root && typeof window.SwaggerUIBundle === 'function') {
  window.SwaggerUIBundle({
    // Absolute path: the document lives at /api/openapi.json whatever this page's URL is.
    url: root.dataset.specUrl || '/api/openapi.json',
    domNode: root,
    deepLinking: true,
    // Never send the document to the public validator: the page works with no network.
    validatorUrl: null,
    tryItOutEnabled: false,
    syntaxHighlight: false,
  });
}
