"""Jupyter Enterprise Gateway: kernelspecs for a kernel image, and the image additions EG needs. Pure.

EG starts a remote kernel by running a launcher script on the gateway host (the kernelspec's
argv, with EG's own ``{kernel_id}``, ``{port_range}``, ``{response_address}``, ``{public_key}``);
the launcher asks Docker (DockerProcessProxy) or Kubernetes (KubernetesProcessProxy) for a
container of ``metadata.process_proxy.config.image_name``, whose CMD (EG's bootstrap-kernel.sh)
runs EG's launch_ipykernel.py, which starts ipykernel and sends the connection back encrypted.

So a kernelenv image needs, for EG: pycryptodomex in the venv, EG's bootstrap script and Python
launcher in /usr/local/bin, KERNEL_LANGUAGE=python, a HOME any uid can write (EG runs kernels as
uid 1000 by default and refuses uid 0). The launchers come from EG's source distribution on PyPI
(its wheel lacks them), fetched by the image build, hash-checked. The kernelspecs' own launcher
scripts (launch_docker.py, launch_kubernetes.py and kernel-pod.yaml.j2) come from the same
source distribution and go into each spec's ``scripts/`` folder on the gateway host (LAUNCHERS).
"""

from __future__ import annotations

from typing import Any

EG_VERSION = "3.3.0"
EG_SDIST = f"jupyter_enterprise_gateway-{EG_VERSION}.tar.gz"
EG_SDIST_SHA256 = "58d61fef0f30d8010553bf3755c7d205c072383849c416916b37d3ef940725b7"
PYCRYPTODOMEX = "pycryptodomex==3.24.2"
PROXIES = {
    "docker": "enterprise_gateway.services.processproxies.docker_swarm.DockerProcessProxy",
    "kubernetes": "enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy",
}
# spec kind -> files its scripts/ folder needs, as (path in the EG source distribution, name in scripts/)
LAUNCHERS = {
    "docker": [("etc/kernel-launchers/docker/scripts/launch_docker.py", "launch_docker.py")],
    "kubernetes": [
        ("etc/kernel-launchers/kubernetes/scripts/launch_kubernetes.py", "launch_kubernetes.py"),
        ("etc/kernel-launchers/kubernetes/scripts/kernel-pod.yaml.j2", "kernel-pod.yaml.j2"),
    ],
}
MARK_KEY = "kernelenv_export"  # not "kernelenv": these specs are for a gateway, not kernelenv's own


def eg_image(kernel_image: str) -> str:
    """The tag for the EG-ready image made from ``kernel_image``: its repository + "-eg", same tag."""
    ref = kernel_image.split("@", 1)[0]
    slash = ref.rfind("/")
    repo, _, tag = ref.rpartition(":") if ref.rfind(":") > slash else (ref, "", "latest")
    return f"{repo}-eg:{tag or 'latest'}"


def kernelspec(kind: str, *, image: str, display_name: str, marker: str) -> dict[str, Any]:
    """kernel.json for EG's ``kind`` process proxy (docker or kubernetes), shaped like EG's own
    samples (etc/kernelspecs/python_docker, python_kubernetes); ``{resource_dir}`` finds the launcher."""
    script = LAUNCHERS[kind][0][1]
    return {
        "language": "python",
        "display_name": display_name,
        "metadata": {
            "process_proxy": {"class_name": PROXIES[kind], "config": {"image_name": image}},
            "debugger": True,
            MARK_KEY: marker,
        },
        "env": {},
        "argv": [
            "python",
            "{resource_dir}/scripts/" + script,
            "--RemoteProcessProxy.kernel-id",
            "{kernel_id}",
            "--RemoteProcessProxy.port-range",
            "{port_range}",
            "--RemoteProcessProxy.response-address",
            "{response_address}",
            "--RemoteProcessProxy.public-key",
            "{public_key}",
        ],
    }


def dockerfile(kernel_image: str, marker: str) -> str:
    """The image additions: FROM the project's kernel image (built by ``kernelenv container`` or
    from ``export --format dockerfile``), plus what EG's kernel launcher needs."""
    eg = "/tmp/kernelenv-eg"
    return "\n".join(
        [
            f"# {marker}: what Jupyter Enterprise Gateway {EG_VERSION}'s kernel launcher needs, on top of the",
            "# project's kernel image. Build it from this folder:",
            f"#   podman build -t {eg_image(kernel_image)} .      (or docker build)",
            "# Behind a private index or a proxy's CA: --build-arg PIP_INDEX_URL=URL, --build-arg PIP_CERT=FILE.",
            f"ARG KERNEL_IMAGE={kernel_image}",
            "FROM $KERNEL_IMAGE",
            "ARG PIP_INDEX_URL",
            "ARG PIP_CERT",
            "USER root",
            "# pycryptodomex (the launcher encrypts the connection it sends back), then EG's bootstrap script",
            "# and Python launcher from its source distribution (hash-checked; the wheel lacks them)",
            f'RUN "$KERNELENV_VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check {PYCRYPTODOMEX} \\',
            f"    && mkdir -p {eg} \\",
            f"    && echo 'jupyter_enterprise_gateway=={EG_VERSION} --hash=sha256:{EG_SDIST_SHA256}' > {eg}/req.txt \\",
            '    && "$KERNELENV_VENV/bin/python" -m pip download --no-cache-dir --disable-pip-version-check --no-deps \\',
            f"       --no-binary :all: --require-hashes -r {eg}/req.txt -d {eg} \\",
            f"    && tar -xzf {eg}/{EG_SDIST} -C {eg} --strip-components=1 \\",
            "    && mkdir -p /usr/local/bin/kernel-launchers/python/scripts \\",
            f"    && cp {eg}/etc/kernel-launchers/bootstrap/bootstrap-kernel.sh /usr/local/bin/bootstrap-kernel.sh \\",
            f"    && cp {eg}/etc/kernel-launchers/python/scripts/launch_ipykernel.py "
            "/usr/local/bin/kernel-launchers/python/scripts/ \\",
            "    && chmod 0755 /usr/local/bin/bootstrap-kernel.sh \\",
            f"    && rm -rf {eg} \\",
            "    && mkdir -p /home/kernel && chmod 1777 /home/kernel",
            "ENV KERNEL_LANGUAGE=python",
            "ENV HOME=/home/kernel",
            "USER 1000",
            'CMD ["/usr/local/bin/bootstrap-kernel.sh"]',
            "",
        ]
    )
