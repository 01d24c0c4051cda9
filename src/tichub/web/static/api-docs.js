// Starts Swagger UI on /api/docs (a file, not an inline script, for the CSP).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // Its default sends our schema to an outside validator.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis]
  });
})();
