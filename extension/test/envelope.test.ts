// The extension's side of the envelope contract, on the fixtures the Python tests check too.
import * as assert from "assert";
import {
  EnvelopeError,
  createData,
  errorText,
  kernelForProject,
  listData,
  parseEnvelope,
  parseProgressLine,
  pythonsData,
  registerData,
  removeConfirmText,
  removeConfirmTextFromList,
  removeData,
  statusIcon,
} from "../src/envelope";
import { fixture, fixtureNames, fixtureText } from "./helpers";

/** The typed view the extension takes of each command's data. */
const VIEWS: Record<string, (env: ReturnType<typeof parseEnvelope>) => unknown> = {
  create: createData,
  register: registerData,
  list: listData,
  remove: removeData,
  pythons: pythonsData,
};

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
    for (const needed of ["create-ok.json", "list-ok.json", "register-ok.json", "remove-ok.json"]) {
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

      if (raw.status === "ok") {
        it("has no errors and, for a command whose data the extension reads, gives its typed view", () => {
          const env = parseEnvelope(fixtureText(name));
          assert.deepStrictEqual(env.errors, []);
          const view = VIEWS[env.command]; // e.g. `init`: the extension only shows its errors
          if (view) {
            assert.doesNotThrow(() => view(env));
          }
        });
      } else {
        it("says the CLI's own message, code and hint", () => {
          const env = parseEnvelope(fixtureText(name));
          const text = errorText(env);
          if (raw.errors.length === 0) {
            // ran and found problems (doctor, verify): no error code to show
            assert.ok(text.includes("found problems"), text);
            return;
          }
          const e = raw.errors[0];
          assert.ok(text.includes(e.message), text);
          assert.ok(text.includes(`[${e.code}]`), text);
          if (e.hint) {
            assert.ok(text.includes(e.hint), text);
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
    for (const s of ["ok", "interpreter-missing", "ipykernel-missing", "invalid-spec", "shadowed"]) {
      assert.match(statusIcon(s), /^\$\([a-z-]+\)$/);
      assert.notStrictEqual(statusIcon(s), statusIcon("some-new-status"));
    }
  });

  it("remove confirmation names the kernelspec and the venv kernelenv made", () => {
    const text = removeConfirmText(removeData(parseEnvelope(fixtureText("remove-ok"))));
    assert.ok(text.includes("/home/ada/.local/share/jupyter/kernels/demo"), text);
    assert.ok(text.includes("/home/ada/projects/demo/.venv"), text);
  });

  it("remove confirmation keeps a venv kernelenv did not make", () => {
    const text = removeConfirmText({ name: "x", kernelspecRemoved: "/k/x", venvRemoved: null, venvKeptReason: "not made by kernelenv" });
    assert.ok(text.includes("/k/x") && text.includes("kept: not made by kernelenv"), text);
    const k = listData(parseEnvelope(fixtureText("list-ok"))).kernels[0];
    assert.ok(removeConfirmTextFromList({ ...k, owned: false }).includes("kept"));
    assert.ok(removeConfirmTextFromList(k).includes("/home/ada/projects/demo/.venv"));
  });
});
