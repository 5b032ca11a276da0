// Package graphiql serves the GraphiQL IDE with every asset it needs from
// the binary (go:embed), so the page works without internet access — no
// CDN, no fonts or scripts fetched from elsewhere; its Content-Security-Policy
// forbids loading anything from another origin.
//
// assets/ holds the GraphiQL and React production bundles fetched from the
// npm registry by scripts/fetch-graphiql.sh (versions and licenses in
// assets/LICENSES.txt).
package graphiql

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

//go:embed assets/*.js assets/*.css assets/LICENSES.txt index.html init.js init.css
var files embed.FS

var page = template.Must(template.ParseFS(files, "index.html"))

// AssetPrefix is the path under which the page's scripts and styles are served.
const AssetPrefix = "/graphiql/"

// csp allows nothing from other origins: scripts and styles from the page's
// own origin (GraphiQL's editors set inline styles), fonts and images
// embedded as data: URLs, requests only to the API on the same origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Page serves the GraphiQL page for the GraphQL endpoint (a path on the
// same origin, such as /graphql).
func Page(title, endpoint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		_ = page.Execute(w, struct{ Title, Endpoint, Assets string }{title, endpoint, AssetPrefix})
	})
}

// Assets serves the page's scripts and styles; mount it at AssetPrefix.
func Assets() http.Handler {
	sub, err := fs.Sub(files, ".")
	if err != nil {
		panic(err)
	}
	fileServer := http.StripPrefix(AssetPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case AssetPrefix + "index.html", AssetPrefix:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
}
