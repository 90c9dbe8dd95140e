#!/usr/bin/env bash
# Install what the sharing tests (tests/sharing: container images, container kernels,
# Jupyter Enterprise Gateway) need, into <repo>/.cache/sharing (git-ignored):
#   - podman, runc and mmdebstrap from Debian (apt);
#   - containers.conf: runc as the runtime (crun refuses cgroups in hybrid mode) and nofile/nproc
#     ulimits this machine allows (podman's defaults fail with "setrlimit RLIMIT_NOFILE");
#     the tests point CONTAINERS_CONF at it;
#   - jupyter_enterprise_gateway (plus docker and websocket-client) in a venv of its own
#     (it pins jupyter_client < 7 and jupyter_server < 2);
#   - EG's source distribution from PyPI, unpacked: the wheel lacks the kernel launchers the
#     kernel images and the Docker kernelspec need. Fetched here, never committed.
# Idempotent: what is already there is kept. Runs as root, no stdin (CI).
#
# Environment:
#   KERNELENV_SHARING_CACHE   where it all goes (default: <repo>/.cache/sharing)
#   EG_VERSION                default 3.3.0
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${KERNELENV_SHARING_CACHE:-$repo/.cache/sharing}"
eg_version="${EG_VERSION:-3.3.0}"
eg_venv="$cache/eg-venv"
eg_src="$cache/eg-src"

say() { printf '[install-sharing-tools] %s\n' "$*"; }
# run a quiet step; its output is shown (the end of it) only when it fails
logged() {
    local log; log="$(mktemp)"
    if ! "$@" </dev/null >"$log" 2>&1; then
        tail -n 40 "$log"; rm -f "$log"; say "failed: $*"; exit 1
    fi
    rm -f "$log"
}
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo -n); else
        say "not root and no sudo: cannot apt-get install"; fi
fi

# 1. apt packages. catatonit is podman's --init (signals reach the kernel, SIGTERM stops it).
apt_pkgs=(podman runc mmdebstrap catatonit)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get installing: ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq </dev/null
    apt_log="$(mktemp)"
    if ! "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" </dev/null >"$apt_log" 2>&1; then
        tail -n 40 "$apt_log"; rm -f "$apt_log"; say "apt-get install failed"; exit 1
    fi
    rm -f "$apt_log"
    say "apt-get installed: ${missing[*]}"
else
    say "apt packages already installed: ${apt_pkgs[*]}"
fi

# 2. containers.conf for podman on this kind of machine.
mkdir -p "$cache"
nofile="$(ulimit -Hn)"
[ "$nofile" = unlimited ] && nofile=1048576
conf="$cache/containers.conf"
want="$(cat <<EOF
# Written by scripts/install-sharing-tools.sh; the sharing tests set CONTAINERS_CONF to this file.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
)"
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
    printf '%s\n' "$want" >"$conf"
    say "wrote $conf"
else
    say "containers.conf already there: $conf"
fi
if CONTAINERS_CONF="$conf" podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1; then
    say "podman answers: runtime $(CONTAINERS_CONF="$conf" podman info --format '{{.Host.OCIRuntime.Name}}')"
else
    say "podman info fails here: the container tests will skip"
    CONTAINERS_CONF="$conf" podman info 2>&1 | tail -n 5 || true
fi

# 3. Enterprise Gateway in a venv of its own.
if [ -x "$eg_venv/bin/jupyter-enterprisegateway" ] \
    && "$eg_venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('jupyter_enterprise_gateway') != '$eg_version')" 2>/dev/null \
    && "$eg_venv/bin/python" -c "import docker, websocket" 2>/dev/null; then
    say "Enterprise Gateway $eg_version already there: $eg_venv"
else
    say "installing jupyter_enterprise_gateway==$eg_version into $eg_venv"
    rm -rf "$eg_venv"
    python3 -m venv "$eg_venv"
    logged "$eg_venv/bin/python" -m pip install "jupyter_enterprise_gateway==$eg_version" docker websocket-client
    say "installed $("$eg_venv/bin/python" -c "import importlib.metadata as m; print(m.version('jupyter_enterprise_gateway'))")"
fi

# 4. EG's sdist (kernel launchers and sample kernelspecs), from PyPI.
if [ -f "$eg_src/.version" ] && [ "$(cat "$eg_src/.version")" = "$eg_version" ] \
    && [ -f "$eg_src/etc/kernel-launchers/docker/scripts/launch_docker.py" ]; then
    say "EG $eg_version sources already there: $eg_src"
else
    say "fetching the jupyter_enterprise_gateway==$eg_version sdist from PyPI"
    tmp="$(mktemp -d)"
    logged "$eg_venv/bin/python" -m pip download --no-deps --no-binary :all: -d "$tmp" "jupyter_enterprise_gateway==$eg_version"
    rm -rf "$eg_src" && mkdir -p "$eg_src"
    tar -xzf "$tmp"/*.tar.gz -C "$eg_src" --strip-components=1
    rm -rf "$tmp"
    for f in etc/kernel-launchers/bootstrap/bootstrap-kernel.sh etc/kernel-launchers/python/scripts/launch_ipykernel.py \
             etc/kernel-launchers/docker/scripts/launch_docker.py etc/kernelspecs/python_docker/kernel.json; do
        [ -f "$eg_src/$f" ] || { say "the sdist has no $f"; exit 1; }
    done
    echo "$eg_version" >"$eg_src/.version"
    say "unpacked into $eg_src"
fi

say "podman:     $(command -v podman) ($(podman --version))"
say "mmdebstrap: $(command -v mmdebstrap)"
say "conf:       $conf"
say "EG:         $eg_venv/bin/jupyter-enterprisegateway"
say "EG sources: $eg_src"
say "done"
