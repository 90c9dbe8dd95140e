// The plumbing: the workspace folder as cwd, a kernelenv.path that is not kernelenv, the status bar.
import * as assert from "assert";
import { BUTTONS } from "../src/app";
import { refreshStatus } from "../src/features/status";
import { showKernels } from "../src/features/kernels";
import { assertPlainSentences, fixture, setup } from "./helpers";

describe("running the CLI", () => {
  it("every call runs in the workspace folder holding what it works on", async () => {
    const { host, spawn, app } = setup();
    host.folders = ["/w/a", "/w/b"];
    await app.run(await app.cli(), "list", []);
    await app.run(await app.cli(), "list", [], { cwd: app.folderFor("/w/b/nb/x.ipynb") });
    assert.deepStrictEqual(spawn.calls.map((c) => c.options.cwd), ["/w/a", "/w/b"]);
    assert.strictEqual(app.folderFor("/w/bb/x"), "/w/a"); // a prefix is not a parent
  });

  it("a kernelenv.path that is not kernelenv (a python): says so, with Configure", async () => {
    const { host, spawn, app } = setup({
      list: { stdout: "", stderr: ["python3: can't open file '/w/list': [Errno 2] No such file or directory"], code: 2 },
      "--version": { stdout: "Python 3.11.2\n" },
    });
    host.settings.path = "/opt/ke/bin/kernelenv";
    host.buttonFor = () => BUTTONS.configure;
    await app.guard(() => showKernels(app));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.strictEqual(err.message, "Kernelenv: /opt/ke/bin/kernelenv is not kernelenv. Set kernelenv.path to the kernelenv program.");
    assert.deepStrictEqual(err.buttons, [BUTTONS.configure]);
    assert.deepStrictEqual(host.settingsOpened, ["@ext:kernelenv.kernelenv"]);
    assert.deepStrictEqual(spawn.verbs()[1], ["--version"]);
  });

  it("kernelenv itself crashing without an envelope is not called 'not kernelenv'", async () => {
    const { host, app } = setup({ list: { stdout: "Traceback (most recent call last):\n", code: 1 } });
    await app.guard(() => showKernels(app));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.includes("kernelenv list failed (exit code 1)"), err.message);
    assert.deepStrictEqual(err.buttons, [BUTTONS.showLog]);
  });
});

describe("status bar", () => {
  it("shows the project's kernel and its health; its list is logged at trace level only", async () => {
    const broken = fixture("list-ok");
    broken.data.kernels[0].status = "interpreter-missing";
    broken.data.kernels[0].problems = ["/home/ada/projects/demo/.venv/bin/python does not exist"];
    const { host, app } = setup({ list: { stdout: JSON.stringify(broken) } });
    await refreshStatus(app);
    assert.strictEqual(host.status?.text, "$(error) demo");
    assert.strictEqual(host.status?.warning, true);
    assert.ok(host.status?.tooltip.includes("does not exist"));
    assert.deepStrictEqual(host.logger.lines("debug"), []);
    assert.ok(host.logger.entries.length > 0);
  });

  it("a CLI that cannot be found: the click opens this extension's settings", async () => {
    const { host, app } = setup();
    host.settings = { path: "/nope/kernelenv" };
    await refreshStatus(app);
    assert.strictEqual(host.status?.command, "workbench.action.openSettings");
    assert.deepStrictEqual(host.status?.args, ["@ext:kernelenv.kernelenv"]);
  });

  it("offers create when the project has no kernel, and is hidden without a workspace", async () => {
    const { host, app } = setup();
    host.folders = ["/w/other"];
    await refreshStatus(app);
    assert.strictEqual(host.status?.command, "kernelenv.createProject");
    host.folders = [];
    await refreshStatus(app);
    assert.strictEqual(host.status, undefined);
    assertPlainSentences(host.texts());
  });
});
