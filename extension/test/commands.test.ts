// The palette commands over a fake editor and a fake CLI answering with the fixture envelopes.
import * as assert from "assert";
import { BUTTONS, Kernelenv, notebookResults } from "../src/commands";
import { FakeFs, FakeHost, FakeSpawn, Script, fixture, fixtureText } from "./helpers";

const CLI = "/opt/ke/bin/kernelenv";
const usage = (verb: string): Script => ({
  stdout: JSON.stringify({ kernelenv: 1, command: verb, status: "error", data: {}, errors: [{ code: "USAGE", message: `kernelenv: invalid choice: '${verb}'`, hint: null, details: {} }] }),
  code: 2,
});

/** A CLI that answers each verb with a fixture; `pythons` and `doctor` do not exist yet. */
function cliAnswering(overrides: Record<string, Script> = {}) {
  return new FakeSpawn((args) => {
    const verb = args[0];
    const key = args.includes("--dry-run") ? `${verb} --dry-run` : verb;
    if (key in overrides) {
      return overrides[key];
    }
    switch (verb) {
      case "create":
        return { stdout: fixtureText("create-ok"), stderr: ['{"progress": {"stage": "install", "message": "Installing ipykernel", "current": 1, "total": 2}}'] };
      case "register":
        return { stdout: fixtureText("register-ok") };
      case "list":
        return { stdout: fixtureText("list-ok") };
      case "remove":
        return { stdout: fixtureText("remove-ok") };
      default:
        return usage(verb);
    }
  });
}

function setup(overrides: Record<string, Script> = {}) {
  const host = new FakeHost();
  const spawn = cliAnswering(overrides);
  const fs = new FakeFs(new Set([CLI]));
  return { host, spawn, k: new Kernelenv(host, spawn.fn, fs) };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe("Create Project Environment", () => {
  it("runs create on the workspace folder with progress and announces the kernel with 'Open a notebook'", async () => {
    const { host, spawn, k } = setup();
    host.settings.defaultProfile = "minimal";
    host.buttonFor = (_m, buttons) => (buttons.includes(BUTTONS.openNotebook) ? BUTTONS.openNotebook : undefined);
    await k.guard(() => k.createProject());
    await settle();
    assert.deepStrictEqual(spawn.verbs()[0], ["pythons", "--json"]);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/home/ada/projects/demo", "--user", "--json"]);
    assert.strictEqual(spawn.calls[1].file, CLI);
    assert.deepStrictEqual(host.progressTitles, ["Kernelenv: creating the environment of demo"]);
    assert.deepStrictEqual(host.progressReports, [{ message: "Installing ipykernel (1/2)", increment: 50 }]);
    const note = host.shown.find((s) => s.kind === "info")!;
    assert.ok(note.message.includes("Python 3.11 (demo)") && note.message.includes("(demo)"), note.message);
    assert.ok(note.buttons.includes(BUTTONS.openNotebook));
    assert.strictEqual(host.notebooks[0].name, "demo");
    assert.strictEqual(host.status?.text, "$(pass) demo"); // the status bar was refreshed
  });

  it("asks for the folder when there are several, the Python when `pythons` lists some, and the profile", async () => {
    const pythons: Script = {
      stdout: JSON.stringify({
        kernelenv: 1, command: "pythons", status: "ok", errors: [],
        data: {
          pythons: [
            { path: "/usr/bin/python3.11", version: "3.11.2", implementation: "CPython", supported: true, can_venv: true, error: null },
            { path: "/opt/py312/bin/python", version: "3.12.4", implementation: "CPython", supported: true, can_venv: true, error: null },
            { path: "/usr/bin/python2.7", version: "2.7.18", implementation: "CPython", supported: false, can_venv: false, error: null },
          ],
        },
      }),
    };
    const { host, spawn, k } = setup({ pythons });
    host.folders = ["/w/one", "/w/two"];
    host.settings.scope = "sys-prefix";
    host.pickAnswers = [(items) => items[1].value, (items) => items[2].value, (items) => items[1].value];
    await k.guard(() => k.createProject());
    assert.deepStrictEqual(host.picks.map((p) => p.title), ["Kernelenv: Create Project Environment", "Kernelenv: Python for the project", "Kernelenv: profile"]);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/w/two", "--python", "/opt/py312/bin/python", "--profile", "data", "--sys-prefix", "--json"]);
    assert.deepStrictEqual(host.picks[1].items.map((i) => i.label), ["$(star) Default", "CPython 3.11.2", "CPython 3.12.4"]);
  });

  it("one usable Python (the pythons fixture): no question, the CLI's default", async () => {
    const { host, spawn, k } = setup({ pythons: { stdout: fixtureText("pythons-ok") } });
    host.settings.defaultProfile = "minimal";
    await k.guard(() => k.createProject());
    assert.deepStrictEqual(host.picks, []);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/home/ada/projects/demo", "--user", "--json"]);
  });

  it("escaping a pick runs nothing", async () => {
    const { host, spawn, k } = setup();
    host.folders = ["/w/one", "/w/two"];
    await k.guard(() => k.createProject());
    assert.strictEqual(spawn.calls.length, 0);
    assert.deepStrictEqual(host.shown, []);
  });

  it("shows the CLI's message and error code, with Show Log", async () => {
    const { host, k } = setup({ create: { stdout: fixtureText("create-error-kernel-exists"), code: 1 } });
    host.settings.defaultProfile = "minimal";
    host.buttonFor = () => BUTTONS.showLog;
    await k.guard(() => k.createProject());
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.includes(fixture("create-error-kernel-exists").errors[0].message), err.message);
    assert.ok(err.message.includes("[KERNEL_EXISTS]"), err.message);
    assert.deepStrictEqual(err.buttons, [BUTTONS.showLog]);
    assert.strictEqual(host.logShown, 1);
    assert.ok(host.lines.some((l) => l.includes('"KERNEL_EXISTS"')), "stdout goes to the output channel");
  });

  it("cancelling stops the CLI and says so", async () => {
    const { host, spawn, k } = setup({ create: { hang: true } });
    host.settings.defaultProfile = "minimal";
    const done = k.guard(() => k.createProject());
    while (spawn.calls.length < 2) {
      await settle();
    }
    host.token.cancel();
    await done;
    assert.deepStrictEqual(spawn.calls[1].child.signals, ["SIGINT"]);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("cancelled")));
    assert.ok(!host.shown.some((s) => s.kind === "error"));
  });

  it("when no CLI is found: an error with Configure that opens the settings", async () => {
    const host = new FakeHost();
    host.settings = {};
    host.buttonFor = () => BUTTONS.configure;
    const spawn = cliAnswering();
    const k = new Kernelenv(host, spawn.fn, new FakeFs());
    await k.guard(() => k.createProject());
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.includes("kernelenv was not found"), err.message);
    assert.deepStrictEqual(err.buttons, [BUTTONS.configure]);
    assert.deepStrictEqual(host.settingsOpened, ["kernelenv"]);
    assert.strictEqual(spawn.calls.length, 0);
  });
});

describe("Register Existing Environment", () => {
  it("registers the chosen venv folder", async () => {
    const { host, spawn, k } = setup();
    host.pickAnswers = [(items) => items[0].value];
    host.dialogAnswers = ["/home/ada/envs/old"];
    await k.guard(() => k.registerEnvironment());
    await settle();
    assert.deepStrictEqual(spawn.verbs()[0], ["register", "/home/ada/envs/old", "--json"]);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("'Python 3.11 (old)'") && s.buttons.includes(BUTTONS.openNotebook)));
  });

  it("offers to install ipykernel when it is missing", async () => {
    let first = true;
    const host = new FakeHost();
    const spawn = new FakeSpawn((args) => {
      if (args[0] === "register" && first) {
        first = false;
        return { stdout: JSON.stringify({ kernelenv: 1, command: "register", status: "error", data: {}, errors: [{ code: "IPYKERNEL_MISSING", message: "no ipykernel in /e", hint: "use --install-ipykernel", details: {} }] }), code: 1 };
      }
      return { stdout: fixtureText(args[0] === "list" ? "list-ok" : "register-ok") };
    });
    const k = new Kernelenv(host, spawn.fn, new FakeFs(new Set([CLI])));
    host.pickAnswers = [(items) => items[1].value];
    host.dialogAnswers = ["/e/bin/python"];
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.installIpykernel) ? BUTTONS.installIpykernel : undefined);
    await k.guard(() => k.registerEnvironment());
    assert.deepStrictEqual(spawn.verbs()[1], ["register", "/e/bin/python", "--install-ipykernel", "--json"]);
  });
});

describe("Show Kernels and Remove Kernel", () => {
  it("lists kernels with a status icon; 'Open kernel.json' opens it", async () => {
    const { host, k } = setup();
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "open")!.value];
    await k.guard(() => k.showKernels());
    assert.strictEqual(host.picks[0].items[0].label, "$(pass) Python 3.11 (demo)");
    assert.deepStrictEqual(host.opened, ["/home/ada/.local/share/jupyter/kernels/demo/kernel.json"]);
  });

  it("doctor: the problems and their fixes", async () => {
    const doctor: Script = {
      stdout: JSON.stringify({ kernelenv: 1, command: "doctor", status: "error", errors: [], data: { kernels: [{ name: "demo", problems: [{ code: "ipykernel-missing", message: "no ipykernel in the venv", fix: "kernelenv create /home/ada/projects/demo" }] }], problems: 1 } }),
      code: 1,
    };
    const { host, spawn, k } = setup({ doctor });
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "doctor")!.value];
    await k.guard(() => k.showKernels());
    assert.deepStrictEqual(spawn.verbs()[1], ["doctor", "demo", "--json"]);
    assert.ok(host.shown.some((s) => s.kind === "warn" && s.message.includes("demo: no ipykernel in the venv (fix: kernelenv create /home/ada/projects/demo)")));
  });

  it("doctor on a CLI without it says to update", async () => {
    const { host, k } = setup();
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "doctor")!.value];
    await k.guard(() => k.showKernels());
    assert.ok(host.shown.some((s) => s.kind === "warn" && s.message.includes("no `doctor`")));
  });

  it("remove confirms with exactly what `remove --dry-run` would delete, then removes", async () => {
    const { host, spawn, k } = setup();
    host.pickAnswers = [(items) => items[0].value];
    await k.guard(() => k.removeKernel());
    const verbs = spawn.verbs();
    assert.deepStrictEqual(verbs.slice(0, 3), [["list", "--json"], ["remove", "demo", "--dry-run", "--json"], ["remove", "demo", "--json"]]);
    const confirm = host.shown.find((s) => s.kind === "confirm")!;
    assert.ok(confirm.message.includes("/home/ada/.local/share/jupyter/kernels/demo"), confirm.message);
    assert.ok(confirm.message.includes("/home/ada/projects/demo/.venv"), confirm.message);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("removed kernel 'demo'")));
  });

  it("saying no removes nothing", async () => {
    const { host, spawn, k } = setup();
    host.confirmAnswer = false;
    await k.guard(() => k.removeKernel("demo"));
    assert.deepStrictEqual(spawn.verbs(), [["remove", "demo", "--dry-run", "--json"]]);
  });

  it("an unknown kernel shows the CLI's error", async () => {
    const { host, k } = setup({ "remove --dry-run": { stdout: fixtureText("remove-error-not-found"), code: 1 } });
    await k.guard(() => k.removeKernel("nope"));
    assert.ok(host.shown.some((s) => s.kind === "error" && s.message.includes("no kernel named 'nope' [KERNEL_NOT_FOUND]")));
    assert.ok(!host.shown.some((s) => s.kind === "confirm"));
  });

  it("a CLI without --dry-run: the confirmation comes from the list entry", async () => {
    const { host, spawn, k } = setup({ "remove --dry-run": usage("remove") });
    await k.guard(() => k.removeKernel("demo"));
    const confirm = host.shown.find((s) => s.kind === "confirm")!;
    assert.ok(confirm.message.includes("/home/ada/projects/demo/.venv"), confirm.message);
    assert.deepStrictEqual(spawn.verbs().slice(0, 3), [["remove", "demo", "--dry-run", "--json"], ["list", "--json"], ["remove", "demo", "--json"]]);
  });
});

describe("status bar", () => {
  it("shows the project's kernel and its health", async () => {
    const broken = fixture("list-ok");
    broken.data.kernels[0].status = "interpreter-missing";
    broken.data.kernels[0].problems = ["/home/ada/projects/demo/.venv/bin/python does not exist"];
    const { host, k } = setup({ list: { stdout: JSON.stringify(broken) } });
    await k.refreshStatus();
    assert.strictEqual(host.status?.text, "$(error) demo");
    assert.strictEqual(host.status?.warning, true);
    assert.ok(host.status?.tooltip.includes("does not exist"));
  });

  it("offers create when the project has no kernel, and is hidden without a workspace", async () => {
    const { host, k } = setup();
    host.folders = ["/w/other"];
    await k.refreshStatus();
    assert.strictEqual(host.status?.command, "kernelenv.createProject");
    host.folders = [];
    await k.refreshStatus();
    assert.strictEqual(host.status, undefined);
  });
});

describe("verification and tutorial notebooks", () => {
  it("reads results tolerantly and offers to open the executed notebooks", async () => {
    const verify: Script = {
      stdout: JSON.stringify({
        kernelenv: 1, command: "verify", status: "ok", errors: [],
        data: {
          output_dir: "/w/out",
          notebooks: [
            { name: "01-python", path: "/nb/01-python.ipynb", output: "/w/out/01-python.ipynb", status: "passed", duration: 1.2, error: null },
            { name: "02-pip", path: "/nb/02-pip.ipynb", output: "/w/out/02-pip.ipynb", status: "passed", duration: 0.8, error: null },
            { name: "04-tensorflow", path: "/nb/04-tensorflow.ipynb", output: null, status: "skipped", duration: 0.0, error: null },
          ],
        },
      }),
      stderr: ['{"progress": {"stage": "notebook", "message": "01-python.ipynb", "current": 1, "total": 2}}', '{"progress": {"stage": "notebook", "message": "02-pip.ipynb", "current": 2, "total": 2}}'],
    };
    const { host, k } = setup({ verify });
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.openNotebooks) ? BUTTONS.openNotebooks : undefined);
    await k.guard(() => k.runNotebooks("verify"));
    assert.deepStrictEqual(host.progressReports.map((r) => r.increment), [50, 50]);
    assert.ok(host.lines.includes("PASSED 01-python  /w/out/01-python.ipynb"), host.lines.join("\n"));
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("2 notebook(s) passed, 1 skipped in /w/out")), JSON.stringify(host.shown));
    assert.deepStrictEqual(host.opened, ["/w/out/01-python.ipynb", "/w/out/02-pip.ipynb"]);
  });

  it("a failed notebook: its error and the fix", () => {
    const r = notebookResults({ notebooks: [{ name: "03-pandas", path: "/nb/03-pandas.ipynb", output: null, status: "failed", error: { ename: "ModuleNotFoundError", evalue: "No module named 'pandas'", fix: "kernelenv create --profile data" } }] });
    assert.deepStrictEqual(r.results, [
      { name: "03-pandas", state: "failed", ok: false, path: "/nb/03-pandas.ipynb", message: "ModuleNotFoundError: No module named 'pandas'; fix: kernelenv create --profile data" },
    ]);
  });

  it("a failed verify run warns with the failing notebook", async () => {
    const verify: Script = {
      stdout: JSON.stringify({ kernelenv: 1, command: "verify", status: "error", errors: [], data: { notebooks: [{ name: "03-pandas", path: "/nb/03-pandas.ipynb", output: "/o/03-pandas.ipynb", status: "failed", error: { ename: "KeyError", evalue: "'x'", fix: null } }] } }),
      code: 1,
    };
    const { host, k } = setup({ verify });
    await k.guard(() => k.runNotebooks("verify"));
    const w = host.shown.find((s) => s.kind === "warn")!;
    assert.ok(w.message.includes("1 of 1 notebook(s) failed: 03-pandas (KeyError: 'x')"), w.message);
    assert.deepStrictEqual(w.buttons, [BUTTONS.openNotebooks, BUTTONS.showLog]);
  });

  it("tutorial notebooks are copied into the project and opened", async () => {
    const notebooks: Script = {
      stdout: JSON.stringify({ kernelenv: 1, command: "notebooks", status: "ok", errors: [], data: { dest: "/home/ada/projects/demo/notebooks", kernel: { name: "demo", display_name: "Python 3.11 (demo)" }, notebooks: [{ name: "01-environment", path: "/home/ada/projects/demo/notebooks/01-environment.ipynb", state: "written" }] } }),
    };
    const { host, spawn, k } = setup({ notebooks });
    await k.guard(() => k.runNotebooks("notebooks"));
    assert.deepStrictEqual(spawn.verbs()[0], ["notebooks", "--project", "/home/ada/projects/demo", "--json"]);
    assert.deepStrictEqual(host.opened, ["/home/ada/projects/demo/notebooks/01-environment.ipynb"]);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("1 tutorial notebook(s) in /home/ada/projects/demo/notebooks")));
  });

  it("a CLI without the verb says to update", async () => {
    const { host, k } = setup();
    await k.guard(() => k.runNotebooks("notebooks"));
    assert.ok(host.shown.some((s) => s.kind === "warn" && s.message.includes("no `notebooks`")));
  });
});
