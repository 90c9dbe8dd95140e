// Show Kernels, Doctor and Remove Kernel, over a fake editor and CLI.
import * as assert from "assert";
import { BUTTONS } from "../src/app";
import { kernelActions, removeKernel, showKernels } from "../src/features/kernels";
import { listData } from "../src/views";
import { parseEnvelope } from "../src/envelope";
import { Script, assertPlainSentences, fixture, fixtureText, setup } from "./helpers";

const listed = () => listData(parseEnvelope(fixtureText("list-ok"))).kernels[0];

describe("Show Kernels", () => {
  it("lists kernels with a status icon; 'Open kernel.json' opens it", async () => {
    const { host, app } = setup();
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "open")!.value];
    await app.guard(() => showKernels(app));
    assert.strictEqual(host.picks[0].items[0].label, "$(pass) Python 3.11 (demo)");
    assert.strictEqual(host.picks[0].options.title, "Kernels");
    assert.deepStrictEqual(host.opened, ["/home/ada/.local/share/jupyter/kernels/demo/kernel.json"]);
  });

  it("the destructive action comes last, so it is never the preselected one", () => {
    const actions = kernelActions(listed());
    assert.deepStrictEqual(actions.map((a) => a.value), ["doctor", "open", "remove"]);
  });

  it("doctor: the first problem as a sentence, the rest and the fixes in the log, the CLI's action as a button", async () => {
    const f = fixture("doctor-problems");
    f.data.kernels[0].problems.push({ code: "conflict", message: "pip check: a needs b", fix: "pip install b", action: null });
    f.data.kernels[0].problems[0].action = { label: "Rebuild the Venv", argv: ["repair", "/home/ada/projects/demo"] };
    const doctor: Script = { stdout: JSON.stringify(f), code: 1 };
    const { host, spawn, app } = setup({ doctor, repair: { stdout: JSON.stringify({ ...fixture("repair-ok") }) } });
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "doctor")!.value];
    host.buttonFor = (_m, b) => (b.includes("Rebuild the Venv") ? "Rebuild the Venv" : undefined);
    await app.guard(() => showKernels(app));
    assert.deepStrictEqual(spawn.verbs()[1], ["doctor", "--kernel", "demo", "--json"]);
    const w = host.shown.find((s) => s.kind === "warn")!;
    assert.strictEqual(w.message, "Kernelenv: Interpreter /home/ada/projects/demo/.venv/bin/python does not exist. (1 more problem in the log)");
    assert.deepStrictEqual(w.buttons, ["Rebuild the Venv", BUTTONS.showLog]);
    assert.deepStrictEqual(spawn.verbs()[2], ["repair", "/home/ada/projects/demo", "--json"]);
    assert.ok(host.logger.lines("warn").some((l) => l.includes("[interpreter-missing]") && l.includes("kernelenv repair")));
    assertPlainSentences(host.texts());
  });

  it("doctor: a healthy kernel", async () => {
    const { host, app } = setup();
    host.pickAnswers = [(items) => items[0].value, (items) => items.find((i) => i.value === "doctor")!.value];
    await app.guard(() => showKernels(app));
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message === "Kernelenv: kernel Python 3.11 (demo) is healthy."));
  });
});

describe("Remove Kernel", () => {
  it("confirms with exactly what `remove --dry-run` would delete, then removes", async () => {
    const { host, spawn, app } = setup();
    host.pickAnswers = [(items) => items[0].value];
    await app.guard(() => removeKernel(app));
    const verbs = spawn.verbs();
    assert.deepStrictEqual(verbs.slice(0, 3), [["list", "--json"], ["remove", "--kernel", "demo", "--dry-run", "--json"], ["remove", "--kernel", "demo", "--json"]]);
    const confirm = host.shown.find((s) => s.kind === "confirm")!;
    assert.ok(confirm.message.includes("/home/ada/.local/share/jupyter/kernels/demo"), confirm.message);
    assert.ok(confirm.message.includes("/home/ada/projects/demo/.venv"), confirm.message);
    assert.ok(host.shown.some((s) => s.kind === "info" && s.message.includes("removed kernel 'demo'")));
  });

  it("saying no removes nothing", async () => {
    const { host, spawn, app } = setup();
    host.confirmAnswer = false;
    await app.guard(() => removeKernel(app, "demo"));
    assert.deepStrictEqual(spawn.verbs(), [["remove", "--kernel", "demo", "--dry-run", "--json"]]);
  });

  it("an unknown kernel shows the CLI's sentence, without its code", async () => {
    const { host, app } = setup({ "remove --dry-run": { stdout: fixtureText("remove-error-not-found"), code: 1 } });
    await app.guard(() => removeKernel(app, "nope"));
    const err = host.shown.find((s) => s.kind === "error")!;
    assert.strictEqual(err.message, "Kernelenv: No kernel named 'nope'.");
    assert.ok(!host.shown.some((s) => s.kind === "confirm"));
    assertPlainSentences(host.texts());
  });
});
