// Starts the self-hosted Swagger UI on /docs. An external file because the CSP forbids
// inline scripts; validatorUrl null keeps the page from calling an outside validator.
const root = document.getElementById("swagger-ui");
window.ui = window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  validatorUrl: null,
});
