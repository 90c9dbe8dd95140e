// Create Project Environment and Register Existing Environment, over a fake editor and CLI.
import * as assert from "assert";
import { BUTTONS } from "../src/app";
import { createProject, registerEnvironment } from "../src/features/create";
import { JUPYTER_EXTENSION_ID, PYTHON_EXTENSION_ID } from "../src/vscodeRules";
import { CLI, FakeFs, FakeHost, FakeSpawn, Script, assertPlainSentences, envelope, fixture, fixtureText, settle, setup } from "./helpers";
import { App } from "../src/app";

const pythons: Script = {
  stdout: envelope("pythons", {
    pythons: [
      { path: "/usr/bin/python3.11", version: "3.11.2", implementation: "CPython", supported: true, can_venv: true, error: null, source: "system" },
      { path: "/opt/py312/bin/python", version: "3.12.4", implementation: "CPython", supported: true, can_venv: true, error: null, source: "pyenv" },
      { path: "/usr/bin/python2.7", version: "2.7.18", implementation: "CPython", supported: false, can_venv: false, error: null, source: null },
    ],
    running: "/usr/bin/python3.11",
  }),
};

describe("Create Project Environment", () => {
  it("runs create on the workspace folder, in that folder, with progress, and says where VS Code lists the kernel", async () => {
    const { host, spawn, app } = setup();
    host.settings.defaultProfile = "minimal";
    host.extensions.add(JUPYTER_EXTENSION_ID);
    host.buttonFor = (_m, buttons) => (buttons.includes(BUTTONS.openNotebook) ? BUTTONS.openNotebook : undefined);
    await app.guard(() => createProject(app));
    await settle();
    assert.deepStrictEqual(spawn.verbs()[0], ["pythons", "--json"]);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/home/ada/projects/demo", "--user", "--json"]);
    assert.strictEqual(spawn.calls[1].file, CLI);
    for (const c of spawn.calls) {
      assert.strictEqual(c.options.cwd, "/home/ada/projects/demo", `${c.args[0]} ran outside the workspace folder`);
    }
    assert.deepStrictEqual(host.progressTitles, ["Kernelenv: creating the environment of demo"]);
    assert.deepStrictEqual(host.progressReports, [{ message: "Installing ipykernel (1/2)", increment: 50 }]);
    const note = host.shown.find((s) => s.kind === "info")!;
    assert.strictEqual(
      note.message,
      "Kernelenv: Created kernel Python 3.11 (demo). In a notebook, pick it with Select Kernel > Jupyter Kernel… > Python 3.11 (demo).",
    );
    assert.deepStrictEqual(note.buttons, [BUTTONS.openNotebook, BUTTONS.showLog]);
    assert.strictEqual(host.notebooks[0].name, "demo");
    assert.strictEqual(host.status?.text, "$(pass) demo"); // the status bar was refreshed
  });

  it("the hint names Python Environments only with the Python extension, and the Jupyter extension when it is missing", async () => {
    for (const [exts, expected] of [
      [[JUPYTER_EXTENSION_ID, PYTHON_EXTENSION_ID], "(or under Python Environments, as its venv)"],
      [[], "install the Jupyter extension; then pick it with Select Kernel > Jupyter Kernel… > Python 3.11 (demo)"],
    ] as const) {
      const { host, app } = setup();
      host.settings.defaultProfile = "minimal";
      exts.forEach((e) => host.extensions.add(e));
      await app.guard(() => createProject(app));
      const note = host.shown.find((s) => s.kind === "info")!;
      assert.ok(note.message.includes(expected), note.message);
      if (!exts.length) {
        assert.ok(!note.message.includes("Python Environments"), note.message);
      }
    }
  });

  it("asks the folder, the Python and the profile with a step counter, in title case, and says which Python is the default", async () => {
    const { host, spawn, app } = setup({ pythons });
    host.folders = ["/w/one", "/w/two"];
    host.settings.scope = "sys-prefix";
    host.pickAnswers = [(items) => items[1].value, (items) => items[2].value, (items) => items[1].value];
    await app.guard(() => createProject(app));
    assert.deepStrictEqual(
      host.picks.map((p) => [p.options.title, p.options.step, p.options.totalSteps]),
      [["Create Project Environment", 1, 3], ["Create Project Environment", 2, 3], ["Create Project Environment", 3, 3]],
    );
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/w/two", "--python", "/opt/py312/bin/python", "--profile", "data", "--sys-prefix", "--json"]);
    const pyItems = host.picks[1].items;
    assert.deepStrictEqual(pyItems.map((i) => i.label), ["$(star) Default", "CPython 3.11.2", "CPython 3.12.4"]);
    assert.strictEqual(pyItems[0].description, "Python 3.11.2, the one kernelenv runs on");
    assert.deepStrictEqual(host.picks[2].items.map((i) => i.label), ["Minimal", "Data", "Deep Learning"]);
  });

  it("the default Python the CLI names, when it does", async () => {
    const f = JSON.parse(pythons.stdout!);
    f.data.default = { path: "/opt/py312/bin/python", version: "3.12.4" };
    const { host, app } = setup({ pythons: { stdout: JSON.stringify(f) } });
    host.settings.defaultProfile = "minimal";
    await app.guard(() => createProject(app));
    assert.strictEqual(host.picks[0].items[0].description, "Python 3.12.4 (/opt/py312/bin/python)");
    assert.strictEqual(host.picks[0].options.step, undefined); // a single question has no counter
  });

  it("one usable Python (the pythons fixture): no question, the CLI's default", async () => {
    const { host, spawn, app } = setup();
    host.settings.defaultProfile = "minimal";
    await app.guard(() => createProject(app));
    assert.deepStrictEqual(host.picks, []);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/home/ada/projects/demo", "--user", "--json"]);
  });

  it("escaping a pick runs nothing more", async () => {
    const { host, spawn, app } = setup();
    host.folders = ["/w/one", "/w/two"];
    await app.guard(() => createProject(app));
    assert.deepStrictEqual(spawn.verbs(), [["pythons", "--json"]]);
    assert.deepStrictEqual(host.shown, []);
  });

  it("a failure shows the CLI's sentence with Show Log; the code and hint go to the log", async () => {
    const { host, app } = setup({ create: { stdout: fixtureText("create-error-kernel-exists"), code: 1 } });
    host.settings.defaultProfile = "minimal";
    host.buttonFor = () => BUTTONS.showLog;
    await app.guard(() => createProject(app));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.toLowerCase().includes(fixture("create-error-kernel-exists").errors[0].message.toLowerCase()), err.message);
    assert.deepStrictEqual(err.buttons, [BUTTONS.showLog]);
    assertPlainSentences(host.texts());
    assert.strictEqual(host.logShown, 1);
    assert.ok(host.logger.lines("error").some((l) => l.includes("[KERNEL_EXISTS]") && l.includes("--force")));
  });

  it("cancelling stops the CLI and says so", async () => {
    const { host, spawn, app } = setup({ create: { hang: true } });
    host.settings.defaultProfile = "minimal";
    const done = app.guard(() => createProject(app));
    while (spawn.calls.length < 2) {
      await settle();
    }
    host.token.cancel();
    await done;
    assert.deepStrictEqual(spawn.calls[1].child.signals, ["SIGINT"]);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("cancelled")));
    assert.ok(!host.shown.some((s) => s.kind === "error"));
  });

  it("when no CLI is found: an error with Configure that opens this extension's settings", async () => {
    const host = new FakeHost();
    host.settings = {};
    host.buttonFor = () => BUTTONS.configure;
    const spawn = new FakeSpawn(() => ({}));
    const app = new App(host, spawn.fn, new FakeFs());
    await app.guard(() => createProject(app));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.includes("kernelenv was not found"), err.message);
    assert.deepStrictEqual(err.buttons, [BUTTONS.configure]);
    assert.deepStrictEqual(host.settingsOpened, ["@ext:kernelenv.kernelenv"]);
    assert.strictEqual(spawn.calls.length, 0);
  });
});

describe("Register Existing Environment", () => {
  it("registers the chosen venv folder", async () => {
    const { host, spawn, app } = setup();
    host.pickAnswers = [(items) => items[0].value];
    host.dialogAnswers = ["/home/ada/envs/old"];
    await app.guard(() => registerEnvironment(app));
    await settle();
    assert.deepStrictEqual(spawn.verbs()[0], ["register", "/home/ada/envs/old", "--json"]);
    assert.deepStrictEqual(host.picks[0].items.map((i) => i.label), ["$(folder) A Venv Folder", "$(file) A Python Interpreter"]);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("Registered kernel Python 3.11 (old)") && s.buttons.includes(BUTTONS.openNotebook)));
  });

  it("offers to install ipykernel with a sentence and a button, not the CLI's flag", async () => {
    let first = true;
    const host = new FakeHost();
    const spawn = new FakeSpawn((args) => {
      if (args[0] === "register" && first) {
        first = false;
        return {
          stdout: envelope("register", {}, "error", [{ code: "IPYKERNEL_MISSING", message: "no ipykernel in /e", hint: "rerun with --install-ipykernel", details: {} }]),
          code: 1,
        };
      }
      return { stdout: fixtureText(args[0] === "list" ? "list-ok" : "register-ok") };
    });
    const app = new App(host, spawn.fn, new FakeFs(new Set([CLI])));
    host.pickAnswers = [(items) => items[1].value];
    host.dialogAnswers = ["/e/bin/python"];
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.installIpykernel) ? BUTTONS.installIpykernel : undefined);
    await app.guard(() => registerEnvironment(app));
    assert.deepStrictEqual(spawn.verbs()[1], ["register", "/e/bin/python", "--install-ipykernel", "--json"]);
    const question = host.shown.find((s) => s.kind === "warn")!;
    assert.strictEqual(question.message, "Kernelenv: python has no ipykernel, which a Jupyter kernel needs. Install it there?");
    assertPlainSentences(host.texts());
  });
});
