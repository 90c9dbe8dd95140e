"""Container kernel start against the same project's venv kernel start (the anchor), plus the
one-off costs: the base image and the project image (built, or reused when it exists). A rebuild
with the venv layer cached is timed by tests/sharing/test_container_kernel.py, not here.

Uses the project and images of tests/sharing (tests/sharing/support.py: the mmdebstrap base,
the locked `sharedemo` project, its image), building what is missing. Each round starts each
kernel with jupyter_client, waits for its kernel_info reply, runs one cell and shuts it down
gracefully. Prints medians and the ratio container/venv.

    CONTAINERS_CONF=.cache/sharing/containers.conf .dev/bin/python bench/bench_containers.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _util import cleanup, median, tmpdir  # noqa: E402


def start_once(name: str, kernel_dir: Path) -> float:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(kernel_dir)]
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    t = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    took = time.perf_counter() - t
    kc.execute_interactive("x = 1", timeout=60)
    kc.stop_channels()
    km.shutdown_kernel()
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from sharing import support

    support.engine_env()
    t = time.perf_counter()
    support.base_image()
    base_s = time.perf_counter() - t
    t = time.perf_counter()
    project, image = support.kernel_image()
    image_s = time.perf_counter() - t
    root = tmpdir("kernelenv-bench-containers-")
    try:
        env = support.project_env(root)
        for argv in (
            ["create", str(project), "--python", "3.11", "--profile", "data"],
            ["container", str(project), "--image", image, "--name", "bench-container"],
        ):
            done = subprocess.run(
                [sys.executable, "-m", "kernelenv", *argv, "--json"], env=env, capture_output=True, text=True, timeout=1800
            )
            assert json.loads(done.stdout)["status"] == "ok", done.stdout[-2000:]
        kernels = root / "data" / "kernels"
        local = json.loads(
            subprocess.run([sys.executable, "-m", "kernelenv", "list", "--json"], env=env, capture_output=True, text=True).stdout
        )["data"]["kernels"]
        venv_kernel = next(k["name"] for k in local if k["owned"] and k["name"] != "bench-container")
        import os

        os.environ.update({k: env[k] for k in ("JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_PATH")})
        rows = {"venv": [], "container": []}
        for _ in range(args.repeat):
            rows["venv"].append(start_once(venv_kernel, kernels))
            rows["container"].append(start_once("bench-container", kernels))
        v, c = median(rows["venv"]), median(rows["container"])
        print(
            f"base image (cached unless first run): {base_s:.2f} s; project "
            f"image (`kernelenv container`, built or reused): {image_s:.2f} s"
        )
        print(f"kernel start to kernel_info reply, median of {args.repeat}: venv {v:.2f} s, container {c:.2f} s")
        print(f"ratio container/venv: {c / v:.2f}")
    finally:
        cleanup(root)


if __name__ == "__main__":
    main()
