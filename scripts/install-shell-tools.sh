#!/usr/bin/env bash
# Install what the terminal tests of `kernelenv shell` need (tests/test_shell_terminal.py): tmux
# drives a real terminal; zsh and fish are the shells besides bash and sh (dash) that it is
# tested in. All from Debian's apt. Idempotent: what is installed is skipped. Runs as root, no
# stdin (CI); without root or sudo it says what is missing and the tests for those shells fail.
set -euo pipefail

say() { printf '[install-shell-tools] %s\n' "$*"; }
export DEBIAN_FRONTEND=noninteractive

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo -n); else
        say "not root and no sudo: cannot apt-get install"; fi
fi

apt_pkgs=(tmux zsh fish)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get installing: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq </dev/null
    apt_log="$(mktemp)"
    if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >"$apt_log" 2>&1; then
        tail -n 40 "$apt_log"; rm -f "$apt_log"; say "apt-get install failed"; exit 1
    fi
    rm -f "$apt_log"
    say "apt-get installed: ${missing[*]}"
else
    say "already installed: ${apt_pkgs[*]}"
fi
for prog in tmux bash dash zsh fish; do
    say "$prog: $(command -v "$prog" || echo MISSING)"
done
