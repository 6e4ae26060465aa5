#!/bin/sh
# The Debian packages the test suite runs beside Python: the published clients' own tools (curl,
# Node.js and npm, Go, PHP with curl), Chromium for the page, redis-server for the shared quota
# store, PostgreSQL for the shared job store, nginx in front of the shared-store deployment's
# replicas, and apt/dpkg-deb for the real-PDF corpus.  Installs what is missing (as root, or through
# sudo); the README's test command and .ci/run both call it.  A test whose tool is still missing
# fails naming the package.
set -eu

have() { command -v "$1" >/dev/null 2>&1; }

missing=""
have curl || missing="$missing curl"
have node || missing="$missing nodejs"
have npm || missing="$missing npm"
have chromium || have chromium-browser || missing="$missing chromium"
have go || missing="$missing golang-go"
have php || missing="$missing php-cli"
{ have php && php -m 2>/dev/null | grep -qx curl; } || missing="$missing php-curl"
have redis-server || missing="$missing redis-server"
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
have setpriv || missing="$missing util-linux"
have nginx || [ -x /usr/sbin/nginx ] || missing="$missing nginx"

# the real-PDF corpus test downloads documentation packages: it needs a package index that lists them
index_stale=0
if have apt-cache && ! apt-cache show --no-all-versions texlive-luatex >/dev/null 2>&1; then
    index_stale=1
fi

if [ -z "$missing" ] && [ "$index_stale" = 0 ]; then
    echo "system packages for the tests: all present"
    exit 0
fi
if ! have apt-get || ! have dpkg-deb; then
    echo "the tests need these Debian packages (or your system's equivalents):$missing" >&2
    echo "apt-get and dpkg-deb are missing too: the real-PDF corpus test downloads Debian packages with them" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then
    sudo=""
elif have sudo; then
    sudo="sudo"
elif [ -z "$missing" ]; then
    echo "the PDF corpus test needs Debian's package index: run apt-get update as root" >&2
    exit 1
else
    echo "the tests need:$missing; install them as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
$sudo apt-get update -qq
if [ -z "$missing" ]; then
    echo "system packages for the tests: all present; package index refreshed for the PDF corpus"
    exit 0
fi
echo "installing for the tests:$missing"
# shellcheck disable=SC2086  # one word per package
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
