# Sourced by scripts/install-*.sh: apt_ensure [--recommends] PKG... installs the Debian packages not yet
# installed (dpkg's chatter to a log, only its tail shown on failure). Uses the caller's `say` and `sudo_cmd`.
apt_ensure() {
    local recommends=(--no-install-recommends)
    if [ "${1:-}" = "--recommends" ]; then recommends=(); shift; fi
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "apt packages already installed: $*"
        return 0
    fi
    say "apt-get installing: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq </dev/null
    local apt_log
    apt_log="$(mktemp)"
    if ! "${sudo_cmd[@]}" apt-get install -y -qq "${recommends[@]}" "${missing[@]}" </dev/null >"$apt_log" 2>&1; then
        tail -n 40 "$apt_log"; rm -f "$apt_log"; say "apt-get install failed"; exit 1
    fi
    rm -f "$apt_log"
    say "apt-get installed: ${missing[*]}"
}
