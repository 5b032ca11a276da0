#!/usr/bin/env bash
# Refreshes the GraphiQL page's assets (internal/server/graphiql/assets),
# which the binary embeds so that GraphiQL at / works without internet.
# Needs npm (only `npm pack`: nothing is installed or run). Bump the
# versions here, run it, check the page (go test ./internal/server/graphiql)
# and commit the files together with this script.
set -euo pipefail
GRAPHIQL=4.1.2 # the last GraphiQL with a UMD build (5.x is ESM-only)
REACT=18.3.1   # the last React with UMD builds

dest="$(cd "$(dirname "$0")/.." && pwd)/internal/server/graphiql/assets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done

cp "graphiql-$GRAPHIQL/package/dist/index.umd.js" "$dest/graphiql.min.js"
cp "graphiql-$GRAPHIQL/package/dist/style.css" "$dest/graphiql.min.css"
cp "react-$REACT/package/umd/react.production.min.js" "$dest/react.production.min.js"
cp "react-dom-$REACT/package/umd/react-dom.production.min.js" "$dest/react-dom.production.min.js"
# The bundles end with a sourceMappingURL the page does not serve.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest"/*.js
{
	echo "Third-party files in this directory, fetched by scripts/fetch-graphiql.sh from the npm registry."
	echo "graphiql@$GRAPHIQL (graphiql.min.js, graphiql.min.css), react@$REACT and react-dom@$REACT (MIT)."
	for p in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
		printf '\n===== %s =====\n\n' "$p"
		cat "$p/package/LICENSE"
	done
} >"$dest/LICENSES.txt"
ls -l "$dest"
