// Starts GraphiQL on the page (index.html). Set the Authorization and X-Org
// headers in the Headers tab; they are kept for the browser session only.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  var defaultHeaders = JSON.stringify({ Authorization: 'Bearer <token from okrgraph token or serve --demo>', 'X-Org': '<organization slug>' }, null, 2);
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: defaultHeaders,
      defaultQuery: '{\n  viewer {\n    user {\n      name\n    }\n  }\n}\n',
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
    })
  );
})();
