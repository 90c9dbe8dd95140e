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
#   - JupyterHub (with jupyter_server for its single-user servers) in a venv of its own, made
#     from Debian's /usr/bin/python3 in a folder every user can reach: the Hub starts each user's
#     server as that user, and pyenv's Pythons under /root (mode 700) are closed to them;
#   - configurable-http-proxy from npm (the Hub's proxy);
#   - hub.env: where those two are, for tests/sharing/test_jupyterhub.py.
# Idempotent: what is already there is kept. Runs as root, no stdin (CI).
#
# Environment:
#   KERNELENV_SHARING_CACHE   where it all goes (default: <repo>/.cache/sharing)
#   EG_VERSION                default 3.3.0
#   JUPYTERHUB_VERSION        default 6.1.1; CHP_VERSION (configurable-http-proxy) default 5.3.0
#   KERNELENV_HUB_ROOT        where the Hub's venv goes (default: <cache>/hub when every user can reach
#                             it, else /opt/kernelenv-sharing)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${KERNELENV_SHARING_CACHE:-$repo/.cache/sharing}"
eg_version="${EG_VERSION:-3.3.0}"
eg_venv="$cache/eg-venv"
eg_src="$cache/eg-src"
hub_version="${JUPYTERHUB_VERSION:-6.1.1}"
chp_version="${CHP_VERSION:-5.3.0}"

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
# python3/python3-venv: the Python the Hub and the team kernel are made from (other users can run it);
# nodejs/npm: configurable-http-proxy; passwd: useradd/groupadd for the Hub's test users.
apt_pkgs=(podman runc mmdebstrap catatonit python3 python3-venv passwd)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
. "$(dirname "$0")/apt-ensure.sh"
apt_ensure --recommends "${apt_pkgs[@]}"

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

# 5. JupyterHub in a venv of its own, where every user can reach it, from a Python every user can run.
others_pass() {  # every folder from / down to $1 lets other users through
    local d="$1"
    while :; do
        [ -d "$d" ] || return 1
        [ $(( 0$(stat -c %a "$d") & 1 )) -ne 0 ] || return 1
        [ "$d" = / ] && return 0
        d="$(dirname "$d")"
    done
}
if [ -n "${KERNELENV_HUB_ROOT:-}" ]; then
    hub_root="$KERNELENV_HUB_ROOT"
elif others_pass "$cache"; then
    hub_root="$cache/hub"
else
    hub_root=/opt/kernelenv-sharing
fi
mkdir -p "$hub_root" && chmod 755 "$hub_root"
hub_venv="$hub_root/hub-venv"
if [ -x "$hub_venv/bin/jupyterhub-singleuser" ] \
    && "$hub_venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('jupyterhub') != '$hub_version')" 2>/dev/null \
    && "$hub_venv/bin/python" -c "import jupyter_server" 2>/dev/null; then
    say "JupyterHub $hub_version already there: $hub_venv"
else
    say "installing jupyterhub==$hub_version and jupyter_server into $hub_venv (from /usr/bin/python3)"
    rm -rf "$hub_venv"
    (umask 022 && /usr/bin/python3 -m venv "$hub_venv")
    (umask 022 && logged "$hub_venv/bin/python" -m pip install "jupyterhub==$hub_version" jupyter_server)
    say "installed JupyterHub $("$hub_venv/bin/python" -c "import importlib.metadata as m; print(m.version('jupyterhub'))")"
fi
others_pass "$hub_venv/bin" || say "warning: other users cannot reach $hub_venv: the Hub's single-user servers will not start"

# 6. configurable-http-proxy from npm (runs as root, beside the Hub).
chp_dir="$cache/chp"
chp="$chp_dir/node_modules/.bin/configurable-http-proxy"
if [ -x "$chp" ] && [ "$("$chp" --version 2>/dev/null)" = "$chp_version" ]; then
    say "configurable-http-proxy $chp_version already there: $chp"
else
    say "installing configurable-http-proxy@$chp_version (npm) into $chp_dir"
    mkdir -p "$chp_dir"
    logged npm install --prefix "$chp_dir" --no-audit --no-fund --no-save "configurable-http-proxy@$chp_version"
    [ -x "$chp" ] || { say "npm did not install $chp"; exit 1; }
fi
printf 'HUB_VENV=%s\nCHP=%s\nJUPYTERHUB_VERSION=%s\nCHP_VERSION=%s\n' "$hub_venv" "$chp" "$hub_version" "$chp_version" >"$cache/hub.env"

say "podman:     $(command -v podman) ($(podman --version))"
say "mmdebstrap: $(command -v mmdebstrap)"
say "conf:       $conf"
say "EG:         $eg_venv/bin/jupyter-enterprisegateway"
say "EG sources: $eg_src"
say "JupyterHub: $hub_venv/bin/jupyterhub"
say "proxy:      $chp"
say "done"
