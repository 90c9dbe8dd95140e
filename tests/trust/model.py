"""A model-based test of kernelenv's promise: the right environment for the right project, and nothing else touched.

Hypothesis drives random sequences of what users do to a few projects sharing one Jupyter data
folder: create, ``mv`` and ``cp -a`` of project folders, remove (by project and by kernel),
prune, repair, register, a base Python uninstalled, a symlink planted in a kernel folder, a run
killed with -9 at a random moment (a rebuild for another Python, a remove), a spec folder copied
by hand (a foreign spec carrying kernelenv's mark), a kernel in a ``--prefix`` folder, a project
reached through a symlink, the user's own venv. After every step the invariants are checked
against the real files and real kernels:

- no user file is changed, no project folder disappears but by the step's own ``mv``;
- a venv disappears or is replaced only where kernelenv made it at that very path, only by a verb
  that may (remove/repair/create, never prune unless asked), and remove never deletes one another
  kernel still uses (one in the ``--prefix`` folder included); a run killed with -9 loses no venv
  (the one it moved aside is still there, and the next run puts it back); the user's own venv is
  never deleted nor rebuilt;
- nothing an interrupted run left beside a venv survives a later create, repair or remove of
  that project, nor a prune;
- every kernel ``list`` calls ok, started by jupyter_client, runs ``sys.executable``, ``!pip`` and
  ``%pip`` from its own project's venv; a kernel that is not ok is reported with its problems, and
  doctor gives a fix; at the end of each run the fixes doctor gives are run and must work.

Used by tests/trust/test_model.py (fixed seed, CI) and bench/bench_model.py (random seed, long).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

PROJECTS = ("A", "B", "C")
OTHER_PYTHON = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"  # a rebuild for another Python
CODES_OK = {0, 1, 2}
PIP_PROBE = (
    "import subprocess, sys, json\n"
    "pip = subprocess.run(['pip', '--version'], capture_output=True, text=True).stdout\n"
    "print(json.dumps({'exe': sys.executable, 'prefix': sys.prefix, 'pip': pip}))\n"
)


class World:
    """One isolated machine: HOME, Jupyter folders, projects, a user's files, a removable Python."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="kernelenv-model-"))
        self.home = self.root / "home"
        self.projects = self.root / "projects"
        self.user = self.root / "user"
        for d in (self.home, self.projects, self.user, self.root / "jupyter-data", self.root / "jupyter-path"):
            d.mkdir(parents=True)
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "JUPYTER_DATA_DIR": str(self.root / "jupyter-data"),
            "JUPYTER_PATH": str(self.root / "jupyter-path"),
            "JUPYTER_CONFIG_DIR": str(self.root / "jupyter-config"),
            "JUPYTER_RUNTIME_DIR": str(self.root / "jupyter-runtime"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "JUPYTER_PLATFORM_DIRS": "0",
        }
        self.kernels = self.root / "jupyter-data" / "kernels"
        self.prefix = self.root / "prefix"  # a --prefix scope (not on Jupyter's path)
        self.prefix_kernels = self.prefix / "share" / "jupyter" / "kernels"
        secret = self.user / "secret.txt"
        secret.write_text("the user's\n")
        os.chmod(secret, 0o600)
        self.python_copy: Path | None = None
        self.step_rc: int | None = None

    def cli(self, *args: Any) -> tuple[int, dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "kernelenv", *map(str, args), "--json"],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=900,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode in CODES_OK, (args, done.returncode, done.stderr[-2000:])
        if self.step_rc is None:
            self.step_rc = done.returncode  # the exit code of the step's own command
        envelope = json.loads(done.stdout)
        codes = [e["code"] for e in envelope["errors"]]
        assert "INTERNAL" not in codes, (args, envelope["errors"])
        for line in done.stderr.splitlines():
            json.loads(line)  # stderr is JSON lines in --json mode
        return done.returncode, envelope

    def killed(self, *args: Any, delay: float) -> None:
        """Run the CLI and SIGKILL it (its whole process group) after ``delay`` seconds, if still running."""
        child = subprocess.Popen(
            [sys.executable, "-m", "kernelenv", *map(str, args), "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def removable_python(self) -> Path:
        """A copy of the running Python's install that the machine may uninstall."""
        if self.python_copy is None or not self.python_copy.exists():
            dest = self.root / "pyinstall"
            if subprocess.run(["cp", "-al", sys.base_prefix, str(dest)], capture_output=True).returncode != 0:
                shutil.copytree(sys.base_prefix, dest, symlinks=True)
            self.python_copy = dest / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        return self.python_copy

    def user_files(self) -> dict[str, tuple[bytes, int]]:
        out = {}
        for base in (self.user, *(self.projects / p for p in PROJECTS)):
            if base.is_symlink():
                continue  # a project reached through a link: its files are its real folder's
            for p in base.glob("*.txt") if base.is_dir() else []:
                out[str(p)] = (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        return out

    def venvs(self) -> dict[str, int]:
        """Every project venv: path -> inode of its pyvenv.cfg (a replaced venv has another)."""
        out = {}
        for p in PROJECTS:
            cfg = self.projects / p / ".venv" / "pyvenv.cfg"
            if cfg.is_file() and not cfg.parent.is_symlink():
                out[str(cfg.parent)] = cfg.stat().st_ino
        return out

    def aside_inodes(self, venv: str) -> set[int]:
        """Inodes of the pyvenv.cfg files in what interrupted runs left beside ``venv``."""
        from kernelenv import venv as venvmod

        out = set()
        for holder in venvmod.leftovers(Path(venv)):
            cfg = holder / Path(venv).name / "pyvenv.cfg"
            if cfg.is_file():
                out.add(cfg.stat().st_ino)
        return out

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def start_and_probe(kernel_dir: Path, name: str, timeout: float = 90) -> dict[str, Any]:
    """Start a spec with jupyter_client; what sys.executable, sys.prefix, !pip and %pip say inside it."""
    import queue

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    ksm = KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=timeout)
        said: dict[str, Any] = {}
        for key, code in (("probe", PIP_PROBE), ("magic", "%pip --version")):
            msg_id = kc.execute(code)
            text = []
            while True:
                try:
                    msg = kc.get_iopub_msg(timeout=timeout)
                except queue.Empty:
                    raise AssertionError(f"kernel {name} did not answer {code!r}") from None
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    text.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    raise AssertionError(f"kernel {name}: {msg['content']['ename']}: {msg['content']['evalue']}")
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            said[key] = "".join(text)
        out = json.loads(said["probe"].strip().splitlines()[-1])
        out["magic"] = said["magic"]
        return out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _pip_in(said: str, venv: Path) -> bool:
    """Whether "pip X from PATH (python Y)" names a pip inside ``venv`` (by real path: a project reached
    through a symlink is the same venv however a script spells it)."""
    if " from " not in said:
        return False
    where = said.split(" from ", 1)[1].rsplit(" (python", 1)[0].strip()
    return os.path.realpath(where).startswith(os.path.realpath(venv) + os.sep)


names = st.sampled_from(PROJECTS)


class TrustMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World()
        self.checked: dict[str, str] = {}  # kernel folder -> fingerprint of what was last started
        self.before: dict[str, Any] = {}
        self.step = ""

    # helpers --------------------------------------------------------------------------
    def folder(self, p: str) -> Path:
        return self.w.projects / p

    def _rows(self) -> list[dict[str, Any]]:
        """Every kernel Jupyter sees plus those in the --prefix folder (list --prefix shows both)."""
        _, listing = self.w.cli("list", "--prefix", self.w.prefix)
        return listing["data"]["kernels"]

    def _snapshot(self, step: str) -> None:
        """What the invariants compare against: taken before each step."""
        self.step = step
        rows = self._rows()
        from kernelenv import identity

        self.before = {
            "venvs": self.w.venvs(),
            "kinds": {v: identity.inspect(Path(v)).kind.value for v in self.w.venvs()},
            "unfinished": {v for v in self.w.venvs() if not identity.inspect(Path(v)).finished},
            "users": {
                v: sorted(
                    r["resource_dir"]
                    for r in rows
                    if r["python"]
                    and os.path.isabs(r["python"])
                    and os.path.realpath(Path(r["python"]).parent.parent) == os.path.realpath(v)
                )
                for v in self.w.venvs()
            },
            "projects": {p for p in PROJECTS if self.folder(p).is_dir() and not self.folder(p).is_symlink()},  # real ones
            "files": self.w.user_files(),
        }
        self.w.step_rc = None

    def _project_with_notes(self, p: str) -> Path:
        f = self.folder(p)
        if not f.exists():
            f.mkdir()
            (f / "notes.txt").write_text(f"notes of {p}\n")
        return f

    # rules ------------------------------------------------------------------------------
    @rule(p=names)
    def create(self, p: str) -> None:
        self._snapshot(f"create {p}")
        self.w.cli("create", self._project_with_notes(p))

    @rule(p=names)
    def create_on_removable_python(self, p: str) -> None:
        self._snapshot(f"create {p} --python <removable>")
        self.w.cli("create", self._project_with_notes(p), "--python", self.w.removable_python())

    @precondition(lambda self: self.w.python_copy is not None and self.w.python_copy.exists())
    @rule()
    def uninstall_python(self) -> None:
        self._snapshot("uninstall the removable python")
        assert self.w.python_copy is not None
        shutil.rmtree(self.w.python_copy.parent.parent)

    @rule(p=names, q=names)
    def move(self, p: str, q: str) -> None:
        self._snapshot(f"mv {p} {q}")
        if p != q and self.folder(p).is_dir() and not self.folder(q).exists():
            shutil.move(str(self.folder(p)), self.folder(q))
            self.before["moved"] = (p, q)

    @rule(p=names, q=names)
    def copy(self, p: str, q: str) -> None:
        self._snapshot(f"cp -a {p} {q}")
        if p != q and self.folder(p).is_dir() and not self.folder(q).exists():
            subprocess.run(["cp", "-a", str(self.folder(p)), str(self.folder(q))], check=True)

    @rule(p=names)
    def remove_project(self, p: str) -> None:
        self._snapshot(f"remove --project {p}")
        if self.folder(p).is_dir():
            self.w.cli("remove", "--project", self.folder(p))

    @rule(p=names)
    def remove_kernel(self, p: str) -> None:
        self._snapshot(f"remove --kernel {p.lower()}")
        self.w.cli("remove", "--kernel", p.lower())

    @rule()
    def prune(self) -> None:
        self._snapshot("prune")
        self.w.cli("prune")

    @rule(p=names)
    def repair(self, p: str) -> None:
        self._snapshot(f"repair {p}")
        if self.folder(p).is_dir():
            self.w.cli("repair", self.folder(p))

    @rule(p=names)
    def register(self, p: str) -> None:
        self._snapshot(f"register {p}/.venv --name reg-{p.lower()}")
        if (self.folder(p) / ".venv").is_dir():
            self.w.cli("register", self.folder(p) / ".venv", "--name", f"reg-{p.lower()}")

    @rule(p=names, delay=st.floats(0.05, 4.0))
    def kill_rebuild(self, p: str, delay: float) -> None:
        self._snapshot(f"kill create {p} --python {OTHER_PYTHON} after {delay:.2f} s")
        if self.folder(p).is_dir():
            self.w.killed("create", self.folder(p), "--python", OTHER_PYTHON, delay=delay)

    @rule(p=names, delay=st.floats(0.05, 2.0))
    def kill_remove(self, p: str, delay: float) -> None:
        self._snapshot(f"kill remove {p} after {delay:.2f} s")
        if self.folder(p).is_dir():
            self.w.killed("remove", "--project", self.folder(p), delay=delay)

    @rule(p=names)
    def copy_spec(self, p: str) -> None:
        self._snapshot(f"cp -r kernels/{p.lower()} kernels/{p.lower()}-copy")
        src, dest = self.w.kernels / p.lower(), self.w.kernels / f"{p.lower()}-copy"
        if src.is_dir() and not src.is_symlink() and not dest.exists():
            shutil.copytree(src, dest)

    @rule(p=names)
    def remove_copied_spec(self, p: str) -> None:
        self._snapshot(f"remove --kernel {p.lower()}-copy --force")
        self.w.cli("remove", "--kernel", f"{p.lower()}-copy", "--force")

    @rule(p=names)
    def create_in_prefix(self, p: str) -> None:
        self._snapshot(f"create {p} --prefix PREFIX")
        if self.folder(p).is_dir():
            self.w.cli("create", self.folder(p), "--prefix", self.w.prefix)

    @rule(p=names)
    def remove_in_prefix(self, p: str) -> None:
        self._snapshot(f"remove --kernel {p.lower()} --prefix PREFIX")
        self.w.cli("remove", "--kernel", p.lower(), "--prefix", self.w.prefix)

    @rule(p=names)
    def own_venv(self, p: str) -> None:
        self._snapshot(f"python -m venv {p}/.venv (the user's own)")
        f = self.folder(p)
        if f.is_dir() and not os.path.lexists(f / ".venv"):
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(f / ".venv")], check=True, env=self.w.env)

    @rule(p=names, q=names)
    def link_project(self, p: str, q: str) -> None:
        self._snapshot(f"ln -s {p} {q}")
        if p != q and self.folder(p).is_dir() and not self.folder(p).is_symlink() and not os.path.lexists(self.folder(q)):
            self.folder(q).symlink_to(self.folder(p))

    @rule(p=names)
    def plant_symlink(self, p: str) -> None:
        self._snapshot(f"plant a symlink in kernel {p.lower()}")
        logo = self.w.kernels / p.lower() / "logo-64x64.png"
        if logo.parent.is_dir() and not logo.parent.is_symlink():
            logo.unlink(missing_ok=True)
            logo.symlink_to(self.w.user / "secret.txt")

    # invariants ---------------------------------------------------------------------------
    @invariant()
    def nothing_else_touched(self) -> None:
        if not self.before:
            return
        now = self.w.user_files()
        for path, content in self.before["files"].items():
            moved = self.before.get("moved")
            if moved and f"/{moved[0]}/" in path:
                path = path.replace(f"/{moved[0]}/", f"/{moved[1]}/")
            assert now.get(path) == content, f"{self.step}: user file {path} changed or vanished"
        kept = {p for p in self.before["projects"] if not (self.before.get("moved") and p == self.before["moved"][0])}
        assert kept <= {p for p in PROJECTS if self.folder(p).is_dir()}, f"{self.step}: a project folder vanished"

    @invariant()
    def venvs_go_only_where_allowed(self) -> None:
        if not self.before:
            return
        now = self.w.venvs()
        moved = self.before.get("moved")
        for venv, inode in self.before["venvs"].items():
            if moved and venv.startswith(str(self.folder(moved[0])) + os.sep):
                continue
            if now.get(venv) == inode:
                continue
            kind = self.before["kinds"][venv]
            verb = self.step.split()[0]
            if verb == "kill":
                if inode in self.w.aside_inodes(venv) or venv in self.before["unfinished"]:
                    continue  # moved aside by the killed run (the next run puts it back), or a half-made one it replaced
                verb = self.step.split()[1]  # judged as what the killed run was doing
            assert kind != "users", f"{self.step}: the user's own venv {venv} was deleted or replaced"
            assert verb in ("remove", "create", "repair"), f"{self.step}: {verb} deleted or replaced {venv} ({kind})"
            if venv not in now:  # deleted
                assert verb == "remove" and kind in ("ours", "abandoned"), f"{self.step}: deleted {venv}, which was {kind}"
                still = [d for d in self.before["users"][venv] if Path(d).exists()]
                assert not still, f"{self.step}: deleted {venv}, which {still} still use"
            else:  # replaced by a rebuild
                assert kind in ("ours", "ours-moved", "ours-copied", "abandoned"), (
                    f"{self.step}: rebuilt {venv}, which was {kind}"
                )

    @invariant()
    def no_venv_path_is_left_unusable(self) -> None:
        """Whatever runs did or were killed doing, each project's .venv is absent, a venv, or what
        kernelenv knows it left (abandoned): never a folder every later run refuses."""
        from kernelenv import identity

        for p in PROJECTS:
            venv = self.folder(p) / ".venv"
            ident = identity.inspect(venv)
            if ident.kind == identity.Kind.NOT_A_VENV:
                listing = sorted(os.listdir(venv)) if venv.is_dir() else None
                raise AssertionError(
                    f"{self.step}: {venv} is no venv and not kernelenv's: {listing}, beside it {sorted(os.listdir(venv.parent))}"
                )

    @invariant()
    def nothing_left_beside_a_venv_after_a_run_on_it(self) -> None:
        """create, repair and remove of a project, and prune, finish what interrupted runs left."""
        if not self.before:
            return
        from kernelenv import venv as venvmod

        words = self.step.split()
        if self.w.step_rc != 0:
            return
        if words[0] == "prune":  # prune reaches the venvs kernels name
            named = {os.path.realpath(r["venv"]) for r in self._rows() if r["owned"] and r["venv"]}
            targets = [p for p in PROJECTS if os.path.realpath(self.folder(p) / ".venv") in named]
        elif words[0] in ("create", "repair") or words[:2] == ["remove", "--project"]:
            targets = [Path(words[-1] if words[0] == "remove" else words[1]).name]
        else:
            return
        for p in targets:
            if p in PROJECTS and self.folder(p).is_dir() and not self.folder(p).is_symlink():
                left = venvmod.leftovers(self.folder(p) / ".venv")
                assert not left, (self.step, left)

    @invariant()
    def every_ok_kernel_runs_its_own_projects_venv(self) -> None:
        for row in self._rows():
            if row["status"] != "ok":
                assert row["problems"], row
                continue
            if not row["owned"] or not row["python"]:
                continue
            spec = Path(row["resource_dir"]) / "kernel.json"
            venv = Path(row["venv"])
            cfg = venv / "pyvenv.cfg"
            fingerprint = f"{spec.read_text()}|{cfg.stat().st_ino if cfg.exists() else None}"
            if self.checked.get(row["resource_dir"]) == fingerprint:
                continue
            said = start_and_probe(Path(row["resource_dir"]).parent, row["name"])
            assert os.path.realpath(said["prefix"]) == os.path.realpath(venv), (self.step, row["name"], said)
            assert said["exe"] == row["python"], (self.step, row["name"], said)
            assert _pip_in(said["pip"], venv), (self.step, row["name"], "!pip", said["pip"])
            assert _pip_in(said["magic"], venv), (self.step, row["name"], "%pip", said["magic"])
            if row["project"]:
                own = os.path.realpath(Path(row["project"]) / ".venv")
                assert Path(row["project"]).is_dir() and os.path.realpath(venv) == own, (self.step, row)
            self.checked[row["resource_dir"]] = fingerprint

    def teardown(self) -> None:
        try:
            self._fixes_work()
        finally:
            self.w.close()

    def _fixes_work(self) -> None:
        """Every broken kernel of kernelenv's gets a fix from doctor, and running it works."""
        _, listing = self.w.cli("list")
        for row in listing["data"]["kernels"]:
            if row["status"] == "ok" or not row["owned"]:
                continue
            rc, doc = self.w.cli("doctor", "--kernel", row["name"])
            if rc == 2 or doc["errors"]:  # the name now resolves elsewhere (shadowed): checked by its own rows
                continue
            problems = [p for k in doc["data"]["kernels"] for p in k["problems"]]
            assert problems and all(p["fix"] for p in problems), (row, doc["data"])
            action = next((p["action"] for p in problems if p.get("action")), None)
            if action is None or any(a == "NEW_FOLDER" for a in action["argv"]):
                continue
            rc, out = self.w.cli(*action["argv"])
            assert rc == 0, (row["name"], action, out["errors"])
        self.checked.clear()
        self.every_ok_kernel_runs_its_own_projects_venv()
