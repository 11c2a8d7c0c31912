/* Starts Swagger UI (vendored, 5.x: reads OpenAPI 3.1) on /openapi.json; a file, not an inline script, for CSP. */
(function () {
  'use strict';
  function start() {
    window.ui = window.SwaggerUIBundle({
      url: '/openapi.json',
      dom_id: '#swagger-ui',
      deepLinking: false,  // its deep links nest a link inside the summary button (axe: nested-interactive)
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout'
    });
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
