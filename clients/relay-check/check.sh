#!/usr/bin/env bash
# Compiles the Relay documents in src/ against the schema the server
# publishes (okrgraph schema), with the relay-compiler pinned in
# package-lock.json. A schema change that breaks Relay clients fails here.
set -euo pipefail
cd "$(dirname "$0")"
go run ../../cmd/okrgraph schema >schema.graphql
[ -x node_modules/.bin/relay-compiler ] || npm ci --no-audit --no-fund --silent
rm -rf __generated__ && mkdir __generated__
node_modules/.bin/relay-compiler
