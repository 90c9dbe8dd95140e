// Finding and running the CLI, over a fake child_process.
import * as assert from "assert";
import { CliError, CliInvocation, CliNotFoundError, expectOk, locateCli, runCli } from "../src/cli";
import { FakeFs, FakeLog, FakeSpawn, FakeToken, fixtureText, tick } from "./helpers";

const noProbe = async () => false;

describe("locateCli", () => {
  const ws = ["/w/a", "/w/b"];

  it("uses kernelenv.path first", async () => {
    const fs = new FakeFs(new Set(["/opt/k/bin/kernelenv", "/w/a/.venv/bin/kernelenv", "/usr/bin/kernelenv"]));
    const cli = await locateCli({ path: "/opt/k/bin/kernelenv", python: "" }, ws, "/usr/bin", fs, noProbe);
    assert.deepStrictEqual(cli, { argv: ["/opt/k/bin/kernelenv"], source: "setting" });
  });

  it("refuses a relative or missing kernelenv.path", async () => {
    const fs = new FakeFs(new Set(["/usr/bin/kernelenv"]));
    await assert.rejects(locateCli({ path: "bin/kernelenv", python: "" }, ws, "/usr/bin", fs, noProbe), CliNotFoundError);
    await assert.rejects(locateCli({ path: "/nope/kernelenv", python: "" }, ws, "/usr/bin", fs, noProbe), /not an executable file/);
  });

  it("then the workspace's .venv/bin/kernelenv", async () => {
    const fs = new FakeFs(new Set(["/w/b/.venv/bin/kernelenv", "/usr/bin/kernelenv"]));
    const cli = await locateCli({ path: "", python: "/usr/bin/python3" }, ws, "/usr/bin", fs, noProbe);
    assert.deepStrictEqual(cli, { argv: ["/w/b/.venv/bin/kernelenv"], source: "workspace-venv" });
  });

  it("then python -m kernelenv with kernelenv.python, when it imports", async () => {
    const fs = new FakeFs(new Set(["/py/bin/python", "/usr/bin/kernelenv"]));
    const probed: string[][] = [];
    const cli = await locateCli({ path: "", python: "/py/bin/python" }, ws, "/usr/bin", fs, async (argv) => {
      probed.push(argv);
      return true;
    });
    assert.deepStrictEqual(cli, { argv: ["/py/bin/python", "-m", "kernelenv"], source: "python-setting" });
    assert.deepStrictEqual(probed, [["/py/bin/python", "-c", "import kernelenv"]]);
    await assert.rejects(locateCli({ path: "", python: "/py/bin/python" }, ws, "/usr/bin", fs, noProbe), /not installed for \/py\/bin\/python/);
  });

  it("then kernelenv on PATH", async () => {
    const fs = new FakeFs(new Set(["/home/u/.local/bin/kernelenv"]));
    const cli = await locateCli({ path: "", python: "" }, ws, "/usr/bin:/home/u/.local/bin", fs, noProbe);
    assert.deepStrictEqual(cli, { argv: ["/home/u/.local/bin/kernelenv"], source: "path" });
  });

  it("says how to configure it when nothing works", async () => {
    await assert.rejects(locateCli({ path: "", python: "" }, ws, "/usr/bin", new FakeFs(), noProbe), /set kernelenv.path/);
  });
});

describe("runCli", () => {
  const cli: CliInvocation = { argv: ["/usr/bin/python3", "-m", "kernelenv"], source: "python-setting" };

  it("spawns an argv array ending in --json and parses stdout's envelope", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: fixtureText("create-ok"), code: 0 }));
    const log = new FakeLog();
    const r = await runCli(cli, "create", ["/w/my project", "--user"], { spawn: spawn.fn, log, cwd: "/w" });
    assert.strictEqual(spawn.calls[0].file, "/usr/bin/python3");
    assert.deepStrictEqual(spawn.calls[0].args, ["-m", "kernelenv", "create", "/w/my project", "--user", "--json"]);
    assert.strictEqual(spawn.calls[0].options.cwd, "/w");
    assert.strictEqual(r.exitCode, 0);
    assert.strictEqual(r.envelope.command, "create");
    assert.strictEqual(expectOk(r).status, "ok");
    const info = log.lines("info");
    assert.ok(info[0].startsWith("$ /usr/bin/python3 -m kernelenv create '/w/my project' --user --json  (in /w)"), info[0]);
    assert.ok(info.some((l) => /^kernelenv create: exit code 0 after \d+\.\d s$/.test(l)), info.join("\n"));
    // the raw envelope goes to the log at trace level only
    assert.ok(log.entries.some((e) => e.level === "trace" && e.line.includes('"command": "create"')));
    assert.ok(!log.lines("debug").some((l) => l.includes('"command": "create"')));
  });

  it("progress events go to onProgress and the log; other stderr lines to the log", async () => {
    const spawn = new FakeSpawn(() => ({
      stderr: [
        '{"progress": {"stage": "venv", "message": "Creating the venv", "current": null, "total": null}}',
        "Using CPython 3.11.2",
        '{"progress": {"stage": "install", "message": "Installing ipykernel", "current": 1, "total": 3}}',
      ],
      stdout: fixtureText("create-ok"),
    }));
    const log = new FakeLog();
    const events: string[] = [];
    await runCli(cli, "create", [], { spawn: spawn.fn, log, onProgress: (e) => events.push(`${e.stage}:${e.message}`) });
    assert.deepStrictEqual(events, ["venv:Creating the venv", "install:Installing ipykernel"]);
    assert.ok(log.lines("debug").includes("Using CPython 3.11.2"));
    assert.ok(log.lines("debug").includes("[install] Installing ipykernel (1/3)"));
  });

  it("decides on the exit code: an error envelope with exit 1 becomes the CLI's sentence; code and hint go to the log", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: fixtureText("create-error-kernel-exists"), code: 1 }));
    const log = new FakeLog();
    const r = await runCli(cli, "create", [], { spawn: spawn.fn, log });
    assert.strictEqual(r.exitCode, 1);
    assert.throws(
      () => expectOk(r),
      (e: unknown) =>
        e instanceof CliError &&
        e.code === "KERNEL_EXISTS" &&
        e.exitCode === 1 &&
        e.message.includes("is not kernelenv's; not replacing it") &&
        !e.message.includes("--force") &&
        !e.message.includes("KERNEL_EXISTS"),
    );
    const logged = log.lines("error").join("\n");
    assert.ok(logged.includes("[KERNEL_EXISTS]") && logged.includes("--force"), logged);
  });

  it("a quiet run (the status bar's list) logs at trace level only", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: fixtureText("list-ok") }));
    const log = new FakeLog();
    await runCli(cli, "list", [], { spawn: spawn.fn, log, quiet: true });
    assert.ok(log.entries.length > 0);
    assert.deepStrictEqual(log.lines("debug"), []);
  });

  it("a nonzero exit is a failure even when the envelope says ok", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: fixtureText("create-ok"), code: 1 }));
    const r = await runCli(cli, "create", [], { spawn: spawn.fn, log: new FakeLog() });
    assert.throws(() => expectOk(r), CliError);
  });

  it("no envelope on stdout is an error that says so, with the exit code", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: "Traceback (most recent call last):\n", stderr: ["boom"], code: 1 }));
    const log = new FakeLog();
    await assert.rejects(
      runCli(cli, "list", [], { spawn: spawn.fn, log }),
      (e: unknown) => e instanceof CliError && e.noEnvelope && /exit code 1.*not one JSON object/.test(e.message),
    );
    assert.ok(log.lines().includes("boom"));
  });

  it("a program that cannot start is an error", async () => {
    const spawn = new FakeSpawn(() => ({ spawnError: "spawn /nope ENOENT" }));
    await assert.rejects(runCli(cli, "list", [], { spawn: spawn.fn, log: new FakeLog() }), /ENOENT/);
  });

  it("cancelling sends SIGINT and resolves as cancelled when the CLI exits 130 with its envelope", async () => {
    const spawn = new FakeSpawn(() => ({ hang: true }));
    const token = new FakeToken();
    const p = runCli(cli, "create", [], { spawn: spawn.fn, log: new FakeLog(), token });
    await tick();
    await tick();
    const child = spawn.calls[0].child;
    child.onKill = (signal) => {
      if (signal === "SIGINT") {
        child.stdout.write(JSON.stringify({ kernelenv: 1, command: "create", status: "error", data: {}, errors: [{ code: "INTERRUPTED", message: "interrupted", hint: null, details: {} }] }));
        child.exit(130);
      }
    };
    token.cancel();
    const r = await p;
    assert.deepStrictEqual(child.signals, ["SIGINT"]);
    assert.strictEqual(r.cancelled, true);
    assert.throws(() => expectOk(r), (e: unknown) => e instanceof CliError && e.cancelled);
  });

  it("cancelling kills the child with SIGKILL when SIGINT is not enough", async () => {
    const spawn = new FakeSpawn(() => ({ hang: true }));
    const token = new FakeToken();
    const p = runCli(cli, "create", [], { spawn: spawn.fn, log: new FakeLog(), token, killGraceMs: 20 });
    await tick();
    const child = spawn.calls[0].child;
    child.onKill = (signal) => {
      if (signal === "SIGKILL") {
        child.exit(null, "SIGKILL");
      }
    };
    token.cancel();
    await assert.rejects(p, (e: unknown) => e instanceof CliError && e.cancelled);
    assert.deepStrictEqual(child.signals, ["SIGINT", "SIGKILL"]);
  });

  it("an already cancelled token starts nothing", async () => {
    const spawn = new FakeSpawn(() => ({ stdout: fixtureText("list-ok") }));
    const token = new FakeToken();
    token.cancel();
    await assert.rejects(runCli(cli, "list", [], { spawn: spawn.fn, log: new FakeLog(), token }), /cancelled/);
    assert.strictEqual(spawn.calls.length, 0);
  });
});
