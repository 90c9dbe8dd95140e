// The extension's side of the envelope contract, on the fixtures the Python tests check too:
// a strict view of every command's data, and the sentences people read.
import * as assert from "assert";
import { EnvelopeError, formatProgress, parseEnvelope, parseProgressLine } from "../src/envelope";
import { errorSentence, removeConfirmText, statusIcon, verifySummary } from "../src/text";
import {
  VIEWS,
  adoptData,
  createData,
  doctorData,
  kernelForProject,
  listData,
  notebooksData,
  pythonsData,
  registerData,
  removeData,
  verifyData,
} from "../src/views";
import { assertPlainSentences, fixture, fixtureNames, fixtureText } from "./helpers";

function withoutKey(obj: any, keyPath: string[]): any {
  const copy = JSON.parse(JSON.stringify(obj));
  let o = copy;
  for (const k of keyPath.slice(0, -1)) {
    o = o[k];
  }
  delete o[keyPath[keyPath.length - 1]];
  return copy;
}

describe("envelope fixtures (tests/fixtures/envelopes)", () => {
  it("finds the shared fixtures", () => {
    const names = fixtureNames();
    assert.ok(names.length >= 7, `only ${names.length} fixtures`);
    for (const needed of ["create-ok.json", "list-ok.json", "register-ok.json", "remove-ok.json", "adopt-ok.json", "verify-ok.json", "doctor-problems.json"]) {
      assert.ok(names.includes(needed), needed);
    }
  });

  for (const name of fixtureNames()) {
    describe(name, () => {
      const raw = fixture(name);

      it("parses as one envelope of its command", () => {
        const env = parseEnvelope(fixtureText(name), raw.command);
        assert.strictEqual(env.kernelenv, 1);
        assert.strictEqual(env.command, raw.command);
        assert.strictEqual(env.status, raw.status);
        assert.deepStrictEqual(env.errors.map((e) => e.code), raw.errors.map((e: any) => e.code));
      });

      it("gives the strict view of its command's data (every command the extension reads)", () => {
        const env = parseEnvelope(fixtureText(name));
        const view = VIEWS[env.command];
        if (raw.status === "ok" || env.errors.length === 0) {
          // ok, or ran and found problems (doctor, verify): the data is there
          assert.ok(view || ["init", "lock", "sync", "export", "prune", "repair", "container", "add", "drop"].includes(env.command), `no view of ${env.command}`);
          if (view) {
            assert.doesNotThrow(() => view(env));
          }
        }
      });

      if (raw.status === "error") {
        it("says the CLI's own sentence, without its code or hint", () => {
          const env = parseEnvelope(fixtureText(name));
          const text = errorSentence(env);
          if (raw.errors.length === 0) {
            assert.ok(text.includes("found problems"), text);
            return;
          }
          const e = raw.errors[0];
          assert.ok(text.toLowerCase().includes(e.message.toLowerCase().replace(/\.$/, "")), text);
          assert.ok(!text.includes(e.code), text);
          if (e.hint) {
            assert.ok(!text.includes(e.hint), text);
          }
        });
      }
    });
  }
});

describe("typed views", () => {
  it("create: kernel name, display name, venv", () => {
    const d = createData(parseEnvelope(fixtureText("create-ok")));
    assert.strictEqual(d.kernel.name, "demo");
    assert.strictEqual(d.kernel.displayName, "Python 3.11 (demo)");
    assert.strictEqual(d.venv, "/home/ada/projects/demo/.venv");
    assert.strictEqual(d.venvCreated, true);
    assert.strictEqual(d.kernel.python, "/home/ada/projects/demo/.venv/bin/python");
  });

  it("register: kernel and venv", () => {
    const d = registerData(parseEnvelope(fixtureText("register-ok")));
    assert.strictEqual(d.kernel.name, "old");
    assert.strictEqual(d.venv, "/home/ada/envs/old");
  });

  it("list: every kernel with status, ownership and project", () => {
    const d = listData(parseEnvelope(fixtureText("list-ok")));
    assert.strictEqual(d.kernels.length, 1);
    const k = d.kernels[0];
    assert.deepStrictEqual([k.name, k.status, k.owned, k.project], ["demo", "ok", true, "/home/ada/projects/demo"]);
    assert.strictEqual(kernelForProject(d, "/home/ada/projects/demo/")?.name, "demo");
    assert.strictEqual(kernelForProject(d, "/home/ada/projects/other"), undefined);
  });

  it("remove: what was deleted", () => {
    const d = removeData(parseEnvelope(fixtureText("remove-ok")));
    assert.strictEqual(d.kernelspecRemoved, "/home/ada/.local/share/jupyter/kernels/demo");
    assert.strictEqual(d.venvRemoved, "/home/ada/projects/demo/.venv");
  });

  // Renaming or removing a field the extension reads must break here as it breaks the Python test.
  const used: [string, string[]][] = [
    ["create-ok", ["data", "kernel", "name"]],
    ["create-ok", ["data", "kernel", "display_name"]],
    ["create-ok", ["data", "kernel", "python"]],
    ["create-ok", ["data", "venv"]],
    ["create-ok", ["data", "venv_created"]],
    ["register-ok", ["data", "kernel", "name"]],
    ["register-ok", ["data", "venv"]],
    ["list-ok", ["data", "kernels"]],
    ["list-ok", ["data", "kernels", "0", "status"]],
    ["list-ok", ["data", "kernels", "0", "owned"]],
    ["list-ok", ["data", "kernels", "0", "resource_dir"]],
    ["remove-ok", ["data", "name"]],
    ["pythons-ok", ["data", "pythons"]],
    ["pythons-ok", ["data", "pythons", "0", "path"]],
    ["pythons-ok", ["data", "pythons", "0", "supported"]],
    ["pythons-ok", ["data", "pythons", "0", "can_venv"]],
    ["verify-ok", ["data", "notebooks"]],
    ["verify-ok", ["data", "notebooks", "0", "status"]],
    ["verify-ok", ["data", "notebooks", "0", "output"]],
    ["verify-ok", ["data", "output_dir"]],
    ["verify-failed", ["data", "notebooks", "0", "error", "ename"]],
    ["notebooks-ok", ["data", "notebooks", "0", "path"]],
    ["notebooks-ok", ["data", "notebooks", "0", "state"]],
    ["notebooks-ok", ["data", "kernel", "display_name"]],
    ["doctor-problems", ["data", "kernels", "0", "problems"]],
    ["doctor-problems", ["data", "kernels", "0", "problems", "0", "message"]],
    ["adopt-ok", ["data", "kernel", "resource_dir"]],
    ["adopt-ok", ["data", "notebooks", "0", "state"]],
    ["adopt-ok", ["data", "dry_run"]],
  ];
  for (const [name, keyPath] of used) {
    it(`${name} without ${keyPath.join(".")} is a contract break`, () => {
      const broken = JSON.stringify(withoutKey(fixture(name), keyPath));
      const env = parseEnvelope(broken);
      assert.throws(() => VIEWS[env.command](env), EnvelopeError);
    });
  }

  it("pythons: path, label and whether it can make a venv", () => {
    const d = pythonsData(parseEnvelope(fixtureText("pythons-ok")));
    assert.ok(d.pythons.length >= 1);
    const p = d.pythons[0];
    assert.strictEqual(p.path, "/home/ada/.pyenv/versions/3.12.1/bin/python3");
    assert.strictEqual(p.usable, true);
    assert.strictEqual(p.label, "python3"); // version not probed yet: the file name
  });

  it("a mistyped field is a contract break too", () => {
    const f = fixture("list-ok");
    f.data.kernels[0].owned = "yes";
    assert.throws(() => listData(parseEnvelope(JSON.stringify(f))), /owned is not a boolean/);
    const v = fixture("verify-ok");
    v.data.notebooks[0].status = "ok";
    assert.throws(() => verifyData(parseEnvelope(JSON.stringify(v))), /status is not one of passed, failed, skipped/);
    const d = fixture("doctor-problems");
    d.data.kernels[0].problems = ["a string"];
    assert.throws(() => doctorData(parseEnvelope(JSON.stringify(d))), /problems\[0\] is not an object/);
  });

  it("verify: rows with the optional skip and action (the CLI contract of the skipped-notebook report)", () => {
    const f = fixture("verify-ok");
    f.data.notebooks.push({
      ...f.data.notebooks[0], name: "02-pandas", status: "skipped", output: null,
      skip: { reason: "profile", message: "needs the data profile" },
      action: { label: "Install the data profile", argv: ["create", "/home/ada/projects/demo", "--profile", "data"] },
    });
    const d = verifyData(parseEnvelope(JSON.stringify(f)));
    assert.strictEqual(d.notebooks[0].skip, null);
    assert.strictEqual(d.notebooks[0].action, null);
    assert.deepStrictEqual(d.notebooks[1].skip, { reason: "profile", message: "needs the data profile" });
    assert.deepStrictEqual(d.notebooks[1].action?.argv, ["create", "/home/ada/projects/demo", "--profile", "data"]);
    f.data.notebooks[1].action.argv = ["kernelenv", "create"];
    assert.throws(() => verifyData(parseEnvelope(JSON.stringify(f))), /kernelenv's arguments only/);
  });

  it("doctor: problems with their fix and optional action", () => {
    const d = doctorData(parseEnvelope(fixtureText("doctor-problems")));
    assert.deepStrictEqual(d.kernels[0].problems[0], {
      code: "interpreter-missing",
      message: "interpreter /home/ada/projects/demo/.venv/bin/python does not exist",
      fix: "kernelenv repair /home/ada/projects/demo",
      action: null,
    });
  });

  it("notebooks and adopt", () => {
    const n = notebooksData(parseEnvelope(fixtureText("notebooks-ok")));
    assert.strictEqual(n.notebooks[0].state, "written");
    const a = adoptData(parseEnvelope(fixtureText("adopt-ok")));
    assert.strictEqual(a.kernel.name, "demo");
    assert.deepStrictEqual(a.notebooks.map((r) => r.state), ["adopted"]);
    assert.strictEqual(a.notebooks[0].previous?.name, "python3");
  });

  it("pythons: the optional default", () => {
    const f = fixture("pythons-ok");
    assert.strictEqual(pythonsData(parseEnvelope(JSON.stringify(f))).default, null);
    f.data.default = { path: "/usr/bin/python3.11", version: "3.11.2" };
    assert.deepStrictEqual(pythonsData(parseEnvelope(JSON.stringify(f))).default, { path: "/usr/bin/python3.11", version: "3.11.2" });
  });

  it("extra keys are a compatible change", () => {
    const f = fixture("create-ok");
    f.data.new_key = { anything: [1, 2] };
    f.data.kernel.extra = true;
    assert.strictEqual(createData(parseEnvelope(JSON.stringify(f))).kernel.name, "demo");
  });
});

describe("parseEnvelope rejects what is not one envelope", () => {
  const bad: [string, string][] = [
    ["empty stdout", ""],
    ["plain text", "Created kernel demo\n"],
    ["two objects", fixtureText("create-ok") + fixtureText("create-ok")],
    ["a list", "[]"],
    ["another version", JSON.stringify({ ...fixture("create-ok"), kernelenv: 2 })],
    ["unknown status", JSON.stringify({ ...fixture("create-ok"), status: "maybe" })],
    ["data not an object", JSON.stringify({ ...fixture("create-ok"), data: [] })],
    ["error without code", JSON.stringify({ ...fixture("remove-error-not-found"), errors: [{ message: "x" }] })],
  ];
  for (const [what, text] of bad) {
    it(what, () => assert.throws(() => parseEnvelope(text), EnvelopeError));
  }

  it("an answer for another command", () => {
    assert.throws(() => parseEnvelope(fixtureText("list-ok"), "create"), /not 'create'/);
  });
});

describe("stderr lines", () => {
  it("a progress event", () => {
    const ev = parseProgressLine('{"progress": {"stage": "install", "message": "Installing ipykernel", "current": 1, "total": 3}}');
    assert.deepStrictEqual(ev, { stage: "install", message: "Installing ipykernel", current: 1, total: 3 });
  });
  it("a progress event with null counts", () => {
    const ev = parseProgressLine('{"progress": {"stage": "venv", "message": "Creating the venv", "current": null, "total": null}}');
    assert.deepStrictEqual(ev, { stage: "venv", message: "Creating the venv" });
  });
  it("plain log text, and JSON that is not progress", () => {
    assert.strictEqual(parseProgressLine("Resolved 3 packages in 12ms"), undefined);
    assert.strictEqual(parseProgressLine('{"other": 1}'), undefined);
    assert.strictEqual(parseProgressLine("{not json"), undefined);
  });
});

describe("what people read", () => {
  it("a status icon for each kernel status", () => {
    for (const st of ["ok", "interpreter-missing", "ipykernel-missing", "invalid-spec", "shadowed"]) {
      assert.match(statusIcon(st), /^\$\([a-z-]+\)$/);
      assert.notStrictEqual(statusIcon(st), statusIcon("some-new-status"));
    }
  });

  it("remove confirmation names the kernelspec and the venv kernelenv made", () => {
    const text = removeConfirmText(removeData(parseEnvelope(fixtureText("remove-ok"))));
    assert.ok(text.includes("/home/ada/.local/share/jupyter/kernels/demo"), text);
    assert.ok(text.includes("/home/ada/projects/demo/.venv"), text);
    const kept = removeConfirmText({ name: "x", kernelspecRemoved: "/k/x", venvRemoved: null, venvKeptReason: "not made by kernelenv" });
    assert.ok(kept.includes("/k/x") && kept.includes("kept: not made by kernelenv"), kept);
  });

  it("error sentences never carry codes or hints with flags", () => {
    const texts = fixtureNames().map((n) => parseEnvelope(fixtureText(n))).filter((e) => e.status === "error").map(errorSentence);
    assertPlainSentences(texts);
  });

  it("the verify summary: failures first, passed, skipped with their reason", () => {
    const f = fixture("verify-ok");
    const base = f.data.notebooks[0];
    f.data.notebooks = [
      { ...base, name: "00-environment", status: "passed" },
      { ...base, name: "01-numpy", status: "skipped", output: null, skip: { reason: "profile", message: "they need the data profile" } },
      { ...base, name: "02-pandas", status: "skipped", output: null, skip: { reason: "profile", message: "they need the data profile" } },
    ];
    assert.strictEqual(verifySummary(verifyData(parseEnvelope(JSON.stringify(f)))),
      "1 notebook passed; 2 skipped (01-numpy and 02-pandas): they need the data profile.");
    const failed = verifyData(parseEnvelope(fixtureText("verify-failed")));
    assert.strictEqual(verifySummary(failed), "1 notebook failed: bad (AssertionError: y is not 3); 0 notebooks passed.");
  });

  it("progress of a slow stage says what it is doing", () => {
    assert.match(formatProgress({ stage: "profile", message: "checking that profile dl can be installed for Python 3.11" }), /package index/);
    assert.strictEqual(formatProgress({ stage: "install", message: "installing", current: 1, total: 2 }), "installing (1/2)");
  });
});
