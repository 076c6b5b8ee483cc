#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests of the HTML report (and the
# web UI), unless a Chromium or Chrome is already there. Idempotent; prints the
# browser it found or installed. CHROME_PATH, when set, names the browser to use.
set -euo pipefail

find_browser() {
	if [[ -n "${CHROME_PATH:-}" && -x "${CHROME_PATH}" ]]; then
		echo "$CHROME_PATH"
		return 0
	fi
	for b in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

if b=$(find_browser); then
	echo "browser: $b"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-chromium: no Chromium found and no apt-get to install it; install Chromium or Chrome and set CHROME_PATH" >&2
	exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-chromium: not root and no sudo; run: apt-get install chromium" >&2
		exit 1
	fi
	sudo="sudo"
fi
echo "install-chromium: installing Debian's chromium (once)"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
b=$(find_browser)
echo "browser: $b"
