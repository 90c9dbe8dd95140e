// The TypeScript restatement of the Jupyter extension's naming rules, on the cases
// kernelenv/vscode.py is checked against too (tests/fixtures/vscode/ids.json).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { asKernelJson, controllerId, specId } from "../src/vscodeRules";
import { fixturesDir } from "./helpers";

interface Case {
  case: string;
  folder: string;
  kernel_json: unknown;
  interpreter: string | null;
  spec_id: string;
  controller_id: string;
}

const cases: Case[] = JSON.parse(fs.readFileSync(path.join(path.dirname(fixturesDir()), "vscode", "ids.json"), "utf8"));

describe("the Jupyter extension's kernelspec ids (same cases as kernelenv/vscode.py)", () => {
  it("has the cases", () => assert.ok(cases.length >= 8));
  for (const c of cases) {
    it(c.case, () => {
      const spec = asKernelJson(c.kernel_json);
      assert.ok(spec);
      const id = specId(c.folder, spec);
      assert.strictEqual(id, c.spec_id);
      assert.strictEqual(controllerId(id, spec, c.interpreter ?? undefined), c.controller_id);
    });
  }
  it("a kernel.json the extension cannot load", () => {
    assert.strictEqual(asKernelJson({ argv: [] , display_name: "x" }), undefined);
    assert.strictEqual(asKernelJson({ argv: ["p"] }), undefined);
    assert.strictEqual(asKernelJson([1]), undefined);
  });
});
