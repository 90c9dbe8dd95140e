// "Use Python 3.11 (demo) for this notebook?", over a fake editor (typed like VS Code and the
// Jupyter extension's API) and a fake CLI answering `adopt` with its fixture.
import * as assert from "assert";
import type { Jupyter, Kernel } from "@vscode/jupyter-extension";
import { BUTTONS } from "../src/app";
import { Adopter, DONT_ASK_KEY } from "../src/features/adopt";
import { JUPYTER_EXTENSION_ID, PYTHON_EXTENSION_ID } from "../src/vscodeRules";
import { Script, assertPlainSentences, fixture, setup } from "./helpers";

const NB = "/home/ada/projects/demo/analysis.ipynb";
const SPEC_DIR = "/home/ada/.local/share/jupyter/kernels/demo";
const KERNEL_JSON = JSON.stringify({
  argv: ["/home/ada/projects/demo/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
  display_name: "Python 3.11 (demo)",
  language: "python",
  env: { PATH: "/home/ada/projects/demo/.venv/bin:${PATH}" },
});

/** The Jupyter extension as its npm types describe it: what the stub of `ms-toolsai.jupyter` offers. */
const jupyterApi: Jupyter = {
  kernels: { getKernel: async (): Promise<Kernel | undefined> => undefined },
  createJupyterServerCollection: () => {
    throw new Error("not used");
  },
};

function adopting(overrides: Record<string, Script> = {}) {
  const s = setup(overrides);
  s.fs.files[`${SPEC_DIR}/kernel.json`] = KERNEL_JSON;
  s.host.extensions.add(JUPYTER_EXTENSION_ID);
  return { ...s, adopter: new Adopter(s.app) };
}

describe("the adopt notification", () => {
  it("asks once, sets the metadata with `kernelenv adopt` in the project folder, and selects the kernel by its controller id", async () => {
    assert.ok(jupyterApi.kernels); // the stub is typed by @vscode/jupyter-extension
    const { host, spawn, adopter } = adopting();
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.useKernel) ? BUTTONS.useKernel : undefined);
    await adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    const q = host.shown[0];
    assert.strictEqual(q.message, "Use Python 3.11 (demo) for this notebook? It is the kernel of demo. It now names the kernel 'python3'.");
    assert.deepStrictEqual(q.buttons, [BUTTONS.useKernel, BUTTONS.notNow, BUTTONS.dontAsk]);
    assert.deepStrictEqual(spawn.verbs(), [
      ["list", "--json"],
      ["adopt", NB, "--project", "/home/ada/projects/demo", "--kernel", "demo", "--json"],
    ]);
    assert.strictEqual(spawn.calls[1].options.cwd, "/home/ada/projects/demo");
    assert.deepStrictEqual(host.selected, [
      { notebook: NB, id: ".demo./home/ada/projects/demo/.venv/python..-m#ipykernel_launcher", extension: "ms-toolsai.jupyter" },
    ]);
    assert.strictEqual(host.shown.length, 1); // selected: nothing more to say
    await adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    assert.strictEqual(host.shown.length, 1, "asked twice");
  });

  it("with the Python extension the controller id carries the venv's interpreter", async () => {
    const { host, adopter } = adopting();
    host.extensions.add(PYTHON_EXTENSION_ID);
    host.buttonFor = () => BUTTONS.useKernel;
    await adopter.onNotebookOpened({ path: NB, kernelName: null, dirty: false });
    assert.strictEqual(host.selected[0].id, ".demo./home/ada/projects/demo/.venv/python./home/ada/projects/demo/.venv/python.-m#ipykernel_launcher");
    assert.ok(host.shown[0].message.endsWith("It names no kernel."));
  });

  it("without the Jupyter extension: the metadata changes and the notification says how to pick it", async () => {
    const { host, spawn, adopter } = adopting();
    host.extensions.clear();
    host.buttonFor = () => BUTTONS.useKernel;
    await adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    assert.ok(spawn.verbs().some((v) => v[0] === "adopt"));
    assert.deepStrictEqual(host.selected, []);
    assert.strictEqual(
      host.shown[1].message,
      "Kernelenv: analysis.ipynb now names Python 3.11 (demo). To run notebooks in VS Code, install the Jupyter extension; then pick it with Select Kernel > Jupyter Kernel… > Python 3.11 (demo).",
    );
    assertPlainSentences(host.texts());
  });

  it("a notebook with unsaved changes is saved first", async () => {
    const { host, adopter } = adopting();
    host.buttonFor = () => BUTTONS.useKernel;
    await adopter.onNotebookOpened({ path: NB, kernelName: "other", dirty: true });
    assert.deepStrictEqual(host.saved, [NB]);
  });

  it("Don't Ask Again holds for the workspace", async () => {
    const { host, spawn, adopter } = adopting();
    host.buttonFor = () => BUTTONS.dontAsk;
    await adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    assert.strictEqual(host.state[DONT_ASK_KEY], true);
    await new Adopter(adopter["app"]).onNotebookOpened({ path: "/home/ada/projects/demo/other.ipynb", kernelName: null, dirty: false });
    assert.strictEqual(host.shown.length, 1);
    assert.ok(!spawn.verbs().some((v) => v[0] === "adopt"));
  });

  it("no question for the project's own kernel, outside the workspace, or without a healthy project kernel", async () => {
    const { host, adopter, app } = adopting();
    await adopter.onNotebookOpened({ path: NB, kernelName: "demo", dirty: false });
    await adopter.onNotebookOpened({ path: "/elsewhere/x.ipynb", kernelName: null, dirty: false });
    await adopter.onNotebookOpened({ path: "/home/ada/projects/demo2/x.ipynb", kernelName: null, dirty: false });
    const broken = fixture("list-ok");
    broken.data.kernels[0].status = "interpreter-missing";
    app.lastList = undefined;
    const s2 = adopting({ list: { stdout: JSON.stringify(broken) } });
    await s2.adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    assert.deepStrictEqual(host.shown, []);
    assert.deepStrictEqual(s2.host.shown, []);
  });

  it("a failed adopt row is an error with the CLI's reason", async () => {
    const f = fixture("adopt-ok");
    f.data.notebooks[0] = { ...f.data.notebooks[0], state: "failed", error: "it is not valid JSON" };
    Object.assign(f.data, { adopted: 0, failed: 1 });
    const { host, adopter } = adopting({ adopt: { stdout: JSON.stringify(f) } });
    host.buttonFor = (_m, b) => (b.includes(BUTTONS.useKernel) ? BUTTONS.useKernel : undefined);
    await adopter.onNotebookOpened({ path: NB, kernelName: "python3", dirty: false });
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.strictEqual(err.message, "Kernelenv: Could not set the kernel of analysis.ipynb: it is not valid JSON.");
    assert.deepStrictEqual(host.selected, []);
  });
});
