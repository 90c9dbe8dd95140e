// Run Verification Notebooks and Open Tutorial Notebooks, over a fake editor and CLI.
import * as assert from "assert";
import { BUTTONS } from "../src/app";
import { executedCopies, focusOf, openTutorials, runVerification } from "../src/features/notebooks";
import { parseEnvelope } from "../src/envelope";
import { verifyData } from "../src/views";
import { Script, assertPlainSentences, envelope, fixture, setup } from "./helpers";

const PKG = "/usr/lib/python3/site-packages/kernelenv/notebooks";
const OUT = "/home/ada/projects/demo/.kernelenv/verify";

function row(name: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    name, topic: name.slice(3), path: `${PKG}/${name}.ipynb`, output: status === "skipped" ? null : `${OUT}/${name}.ipynb`,
    status, duration: 1.0, error: null, ...extra,
  };
}

/** A minimal project: 00-environment passes, the data and dl notebooks are skipped for their profile. */
function minimalVerify(): Script {
  const f = fixture("verify-ok");
  const data = { label: "Install the Data Profile", argv: ["create", "/home/ada/projects/demo", "--profile", "data"] };
  const dl = { label: "Install the Deep Learning Profile", argv: ["create", "/home/ada/projects/demo", "--profile", "dl"] };
  f.data.notebooks = [
    row("00-environment", "passed"),
    row("01-numpy", "skipped", { skip: { reason: "profile", message: "numpy and pandas need the data profile" }, action: data }),
    row("02-pandas", "skipped", { skip: { reason: "profile", message: "numpy and pandas need the data profile" }, action: data }),
    row("03-tensorflow", "skipped", { skip: { reason: "profile", message: "TensorFlow needs the dl profile" }, action: dl }),
  ];
  Object.assign(f.data, { passed: 1, failed: 0, skipped: 3, notebooks_dir: PKG, output_dir: OUT });
  return { stdout: JSON.stringify(f) };
}

describe("Run Verification Notebooks", () => {
  it("skipped notebooks are reported as skipped with their reason, and the fix is a button that runs it", async () => {
    const { host, spawn, app } = setup({ verify: minimalVerify() });
    host.buttonFor = (m, b) => (b.includes("Install the Data Profile") ? "Install the Data Profile" : m.includes("again") ? BUTTONS.runAgain : undefined);
    let runs = 0;
    const before = spawn.answer;
    spawn.answer = (args) => (args[0] === "verify" && ++runs > 1 ? { stdout: fixture("verify-ok") && JSON.stringify(fixture("verify-ok")) } : before(args));
    await app.guard(() => runVerification(app));
    const note = host.shown[0];
    assert.strictEqual(note.kind, "info");
    assert.strictEqual(
      note.message,
      "Kernelenv: 1 notebook passed; 3 skipped (01-numpy, 02-pandas and 03-tensorflow): numpy and pandas need the data profile; TensorFlow needs the dl profile.",
    );
    assert.deepStrictEqual(note.buttons, ["Install the Data Profile", "Install the Deep Learning Profile", BUTTONS.openNotebooks, BUTTONS.showLog]);
    assert.ok(!note.message.includes("failed"));
    assert.deepStrictEqual(spawn.verbs().map((v) => v[0]), ["verify", "create", "verify"]);
    assert.deepStrictEqual(spawn.verbs()[1], ["create", "/home/ada/projects/demo", "--profile", "data", "--json"]);
    assert.strictEqual(spawn.calls[1].options.cwd, "/home/ada/projects/demo");
    assert.ok(host.progressTitles.includes("Kernelenv: Install the Data Profile"));
    assertPlainSentences(host.texts());
  });

  it("Open Executed Notebooks opens the executed copies as real tabs, focused on 00-environment, never the package's files", async () => {
    const { host, app } = setup({ verify: minimalVerify() });
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.openNotebooks) ? BUTTONS.openNotebooks : undefined);
    await app.guard(() => runVerification(app));
    assert.deepStrictEqual(host.notebookTabs, [{ paths: [`${OUT}/00-environment.ipynb`], focus: `${OUT}/00-environment.ipynb` }]);
    assert.ok(!host.notebookTabs[0].paths.some((p) => p.startsWith(PKG)));
  });

  it("a failure: a warning naming it, the focus on the failed notebook", async () => {
    const f = fixture("verify-failed");
    f.data.notebooks = [
      row("00-environment", "passed"),
      row("01-numpy", "failed", { error: { cell: 3, execution_count: 3, line: 2, source: "x", ename: "KeyError", evalue: "'x'", fix: null } }),
    ];
    Object.assign(f.data, { passed: 1, failed: 1, skipped: 0 });
    const { host, app } = setup({ verify: { stdout: JSON.stringify(f), code: 1 } });
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.openNotebooks) ? BUTTONS.openNotebooks : undefined);
    await app.guard(() => runVerification(app));
    const w = host.shown.find((s) => s.kind === "warn")!;
    assert.strictEqual(w.message, "Kernelenv: 1 notebook failed: 01-numpy (KeyError: 'x'); 1 notebook passed.");
    assert.deepStrictEqual(w.buttons, [BUTTONS.openNotebooks, BUTTONS.showLog]);
    assert.strictEqual(host.notebookTabs[0].focus, `${OUT}/01-numpy.ipynb`);
    assert.ok(host.logger.lines("warn").some((l) => l.startsWith("FAILED 01-numpy") && l.includes("KeyError")));
  });

  it("verify cannot run (no kernel for the project): the CLI's sentence", async () => {
    const { host, app } = setup({ verify: { stdout: JSON.stringify(fixture("verify-error-kernel-not-found")), code: 1 } });
    await app.guard(() => runVerification(app));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.ok(err.message.startsWith("Kernelenv: No kernel named"), err.message);
    assertPlainSentences(host.texts());
  });

  it("which notebook gets the focus", () => {
    assert.strictEqual(focusOf([{ name: "a", path: "/a" }, { name: "00-environment", path: "/e" }]), "/e");
    assert.strictEqual(focusOf([{ name: "00-environment", path: "/e" }, { name: "b", path: "/b", failed: true }]), "/b");
    assert.strictEqual(focusOf([]), undefined);
    const d = verifyData(parseEnvelope(minimalVerify().stdout!));
    assert.deepStrictEqual(executedCopies(d).map((c) => c.path), [`${OUT}/00-environment.ipynb`]);
  });
});

describe("Open Tutorial Notebooks", () => {
  it("copies them into the project and opens every one as a real tab, focused on 00-environment", async () => {
    const dest = "/home/ada/projects/demo/notebooks";
    const notebooks: Script = {
      stdout: envelope("notebooks", {
        dest,
        kernel: { name: "demo", display_name: "Python 3.11 (demo)", resource_dir: "/k/demo" },
        notebooks: ["00-environment", "01-numpy", "02-pandas", "03-tensorflow"].map((n, i) => ({ name: n, path: `${dest}/${n}.ipynb`, state: i === 2 ? "kept" : "written" })),
      }),
    };
    const { host, spawn, app } = setup({ notebooks });
    await app.guard(() => openTutorials(app));
    assert.deepStrictEqual(spawn.verbs()[0], ["notebooks", "/home/ada/projects/demo", "--json"]);
    assert.strictEqual(spawn.calls[0].options.cwd, "/home/ada/projects/demo");
    assert.strictEqual(host.notebookTabs.length, 1);
    assert.strictEqual(host.notebookTabs[0].paths.length, 4);
    assert.strictEqual(host.notebookTabs[0].focus, `${dest}/00-environment.ipynb`);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message === "Kernelenv: 4 tutorial notebooks in notebooks, set to Python 3.11 (demo). 1 you changed were kept as they are."));
  });
});
