#!/usr/bin/env bash
# Vendors uPlot (https://github.com/leeoniya/uPlot, MIT) into internal/report/assets/
# for the self-contained HTML report and into internal/web/assets/ for the live
# web UI: the minified IIFE build, its stylesheet, the licence, and a VERSION
# file. Needs npm and tar. After it, regenerate the web UI's precompressed
# copies: go generate ./internal/web (go run ./scripts/assets).
#
#   scripts/vendor-uplot.sh            # the pinned version
#   scripts/vendor-uplot.sh 1.6.32     # another version
set -euo pipefail

version="${1:-1.6.32}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dests=("$root/internal/report/assets" "$root/internal/web/assets")

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null)
tarball=("$tmp"/uplot-*.tgz)
if [[ ! -f "${tarball[0]}" ]]; then
	echo "vendor-uplot: npm pack produced no tarball for uplot@$version" >&2
	exit 1
fi
tar -xzf "${tarball[0]}" -C "$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE

for dest in "${dests[@]}"; do
	mkdir -p "$dest"
	cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$tmp/package/LICENSE" "$dest/"
	printf '%s\n' "$version" >"$dest/VERSION"
	echo "vendored uPlot $version into ${dest#"$root"/}"
done
