#!/usr/bin/env bash
# Builds FerretDB v1 (SQLite backend) once into a cache outside the repo, so fresh clones and CI reuse it.
# The published module lacks build/version/version.txt, and a plain `go install` panics at start without it.
set -euo pipefail
version="${FERRETDB_VERSION:-v1.24.2}"
cache="${OPSDESK_CACHE:-$HOME/.cache/opsdesk}"
# "-idx1": with the one-line _id index patch below; a different name so an unpatched cached build is not reused.
bin="$cache/ferretdb-$version-idx1"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
command -v go >/dev/null || { echo "build-ferretdb: Go is not on PATH; install Go 1.24+ or set MONGODB_URL" >&2; exit 1; }
mkdir -p "$cache"
echo "build-ferretdb: building FerretDB $version into $cache (first time only; takes a few minutes)..." >&2
dir=$(go mod download -json "github.com/FerretDB/FerretDB@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$dir/." "$work/"
chmod -R u+w "$work"
mkdir -p "$work/build/version"
printf '%s' "$version" > "$work/build/version/version.txt"
# Upstream v1 SQLite compares _id as `_ferretdb_sjson->'$._id'` while the unique _id index is on
# `_ferretdb_sjson->"_id"`; SQLite cannot match the two expressions, so every _id look-up and update scanned
# the whole table (measured: 9.5 ms per find_one on 3,000 tickets). Query with the indexed expression instead.
meta="$work/internal/backends/sqlite/metadata/metadata.go"
if grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$meta"; then
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$meta"
  grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$meta" || { echo "build-ferretdb: _id index patch did not apply" >&2; exit 1; }
else
  echo "build-ferretdb: _id index patch not applicable to $version; building unpatched" >&2
fi
(cd "$work" && GOFLAGS=-mod=mod go build -o "$bin.tmp" ./cmd/ferretdb) >&2
mv "$bin.tmp" "$bin"
echo "build-ferretdb: done" >&2
echo "$bin"
