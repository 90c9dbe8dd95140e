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

. "$(dirname "$0")/apt-ensure.sh"
apt_ensure tmux zsh fish
for prog in tmux bash dash zsh fish; do
    say "$prog: $(command -v "$prog" || echo MISSING)"
done
