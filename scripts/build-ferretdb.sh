#!/usr/bin/env bash
# Builds FerretDB v1 (SQLite backend) once into a cache outside the repo, so fresh clones and CI reuse it.
# The published module lacks build/version/version.txt, and a plain `go install` panics at start without it.
set -euo pipefail
version="${FERRETDB_VERSION:-v1.24.2}"
cache="${OPSDESK_CACHE:-$HOME/.cache/opsdesk}"
# "-idx1": with the one-line _id index patch below; "-rel2": with the connection-release patch further down. A
# different name each, so a build without them is not reused.
bin="$cache/ferretdb-$version-idx1-rel2"
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
# An update (and findAndModify) held each statement's query, and with it a pooled SQLite connection, open while it
# wrote the document with another connection, and kept them all open until the whole command ended: with 100
# statements in flight (one command of 100, or eight bulk writes of 20 at once, or many single updates from six
# services' handlers) every connection of the pool (100) was held by a reader waiting for a writer, and FerretDB
# answered nothing until restarted (bench/ferretdb_backends.py, 2026-12-01; session 7's "an update of 100 never
# answers"). Read the matched documents first and release the query, then write.
python3 - "$work" <<'PY' >&2
import pathlib, sys
root = pathlib.Path(sys.argv[1]) / "internal" / "handler"
patches = {
    "msg_update.go": (
        '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n',
        '\t\topsdeskDocs, err := iterator.ConsumeValues(iter) // opsdesk: release the query before writing\n'
        '\t\tcloser.Close()\n'
        '\t\tif err != nil {\n\t\t\treturn 0, 0, nil, lazyerrors.Error(err)\n\t\t}\n\n'
        '\t\topsdeskIter := iterator.Values(iterator.ForSlice(opsdeskDocs))\n'
        '\t\tresult, err := common.UpdateDocument(ctx, c, "update", opsdeskIter, &u)\n'
        '\t\topsdeskIter.Close()\n',
    ),
    "msg_findandmodify.go": (
        '\tupdateRes, err := common.UpdateDocument(ctx, c, "findAndModify", iter, update)\n',
        '\topsdeskDocs, err := iterator.ConsumeValues(iter) // opsdesk: release the query before writing\n'
        '\tif err != nil {\n\t\treturn nil, lazyerrors.Error(err)\n\t}\n\n'
        '\topsdeskIter := iterator.Values(iterator.ForSlice(opsdeskDocs))\n'
        '\tupdateRes, err := common.UpdateDocument(ctx, c, "findAndModify", opsdeskIter, update)\n'
        '\topsdeskIter.Close()\n',
    ),
}
for name, (old, new) in patches.items():
    path = root / name
    text = path.read_text()
    if text.count(old) != 1:
        sys.exit(f"build-ferretdb: connection-release patch does not apply to {name}")
    path.write_text(text.replace(old, new))
print("build-ferretdb: connection-release patch applied")
PY
(cd "$work" && GOFLAGS=-mod=mod go build -o "$bin.tmp" ./cmd/ferretdb) >&2
mv "$bin.tmp" "$bin"
echo "build-ferretdb: done" >&2
echo "$bin"
