// What package.json contributes: settings people read in the Settings editor.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { EXTENSION_ID } from "../src/app";

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8"));

describe("package.json", () => {
  it("the extension id Configure filters by is publisher.name", () => {
    assert.strictEqual(EXTENSION_ID, `${pkg.publisher}.${pkg.name}`);
  });

  it("every choice of the Default Profile dropdown has a label, the empty one included", () => {
    const p = pkg.contributes.configuration.properties["kernelenv.defaultProfile"];
    assert.strictEqual(p.enum[0], "");
    assert.strictEqual(p.enumItemLabels.length, p.enum.length);
    assert.strictEqual(p.enumItemLabels[0], "Ask each time");
    assert.ok(p.enumItemLabels.every((l: string) => l.trim().length > 0));
  });

  it("command titles are in title case", () => {
    for (const c of pkg.contributes.commands) {
      for (const w of c.title.split(" ")) {
        assert.ok(/^[A-Z0-9]/.test(w) || ["a", "an", "the", "of", "for", "and", "to", "in"].includes(w), `${c.title}: ${w}`);
      }
    }
  });
});
