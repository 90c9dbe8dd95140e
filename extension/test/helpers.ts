// Fakes of the two thin wrappers (the editor Host and child_process spawn), and the shared fixtures.
import * as fs from "fs";
import * as path from "path";
import { EventEmitter } from "events";
import { PassThrough } from "stream";
import { Cancellation } from "../src/cli";
import { KernelRef } from "../src/views";
import { Host, Log, OpenDialogOptions, PickItem, PickOptions, ProgressReporter, StatusBarState } from "../src/host";
import { ChildLike, FsLike, SpawnFn, SpawnOptions } from "../src/spawn";

/** tests/fixtures/envelopes of the repository: the same files the Python tests check. */
export function fixturesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, "tests", "fixtures", "envelopes");
    if (fs.existsSync(candidate)) {
      return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new Error(`tests/fixtures/envelopes not found above ${__dirname}`);
}

export function fixtureNames(): string[] {
  return fs.readdirSync(fixturesDir()).filter((f) => f.endsWith(".json")).sort();
}

export function fixtureText(name: string): string {
  return fs.readFileSync(path.join(fixturesDir(), name.endsWith(".json") ? name : `${name}.json`), "utf8");
}

export function fixture(name: string): Record<string, any> {
  return JSON.parse(fixtureText(name));
}

export class FakeChild extends EventEmitter implements ChildLike {
  readonly pid = 4242;
  stdout = new PassThrough();
  stderr = new PassThrough();
  signals: string[] = [];
  /** What happens on kill: by default the process exits 130 on SIGINT and dies on SIGKILL. */
  onKill: (signal: string) => void = (signal) => {
    if (signal === "SIGKILL") {
      this.exit(null, "SIGKILL");
    } else if (signal === "SIGINT") {
      this.exit(130);
    }
  };
  private exited = false;

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.signals.push(signal);
    this.onKill(signal);
    return true;
  }

  exit(code: number | null, signal: string | null = null): void {
    if (this.exited) {
      return;
    }
    this.exited = true;
    setImmediate(() => {
      this.stdout.end();
      this.stderr.end();
      setImmediate(() => this.emit("close", code, signal));
    });
  }
}

export interface Call {
  file: string;
  args: string[];
  options: SpawnOptions;
  child: FakeChild;
}

/** A scripted CLI answer: stdout, stderr lines, exit code; `hang` leaves it running. */
export interface Script {
  stdout?: string;
  stderr?: string[];
  code?: number;
  hang?: boolean;
  spawnError?: string;
}

export class FakeSpawn {
  calls: Call[] = [];
  constructor(public answer: (args: string[]) => Script) {}

  readonly fn: SpawnFn = (file, args, options) => {
    const child = new FakeChild();
    const call = { file, args: [...args], options, child };
    this.calls.push(call);
    const script = this.answer([...args]);
    setImmediate(() => {
      if (script.spawnError) {
        child.emit("error", new Error(script.spawnError));
        return;
      }
      for (const line of script.stderr ?? []) {
        child.stderr.write(line + "\n");
      }
      if (script.stdout !== undefined) {
        child.stdout.write(script.stdout);
      }
      if (!script.hang) {
        child.exit(script.code ?? 0);
      }
    });
    return child;
  };

  /** argv after the CLI's own prefix, e.g. ["create", "/w/demo", "--user", "--json"]. */
  verbs(): string[][] {
    return this.calls.map((c) => c.args);
  }
}

export class FakeFs implements FsLike {
  constructor(
    public executables: Set<string> = new Set(),
    public files: Record<string, string> = {},
  ) {}
  isExecutableFile(p: string): boolean {
    return this.executables.has(p);
  }
  readText(p: string): string | undefined {
    return this.files[p];
  }
}

export type Level = "trace" | "debug" | "info" | "warn" | "error";

/** A Log that keeps "level: line" strings. */
export class FakeLog implements Log {
  entries: { level: Level; line: string }[] = [];
  trace = (l: string) => void this.entries.push({ level: "trace", line: l });
  debug = (l: string) => void this.entries.push({ level: "debug", line: l });
  info = (l: string) => void this.entries.push({ level: "info", line: l });
  warn = (l: string) => void this.entries.push({ level: "warn", line: l });
  error = (l: string) => void this.entries.push({ level: "error", line: l });
  /** lines at `min` level or above */
  lines(min: Level = "trace"): string[] {
    const order: Level[] = ["trace", "debug", "info", "warn", "error"];
    return this.entries.filter((e) => order.indexOf(e.level) >= order.indexOf(min)).map((e) => e.line);
  }
}

export class FakeToken implements Cancellation {
  isCancellationRequested = false;
  private listeners: (() => void)[] = [];
  onCancellationRequested(listener: () => void) {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }
  cancel(): void {
    this.isCancellationRequested = true;
    for (const l of [...this.listeners]) {
      l();
    }
  }
}

export interface Shown {
  kind: "info" | "warn" | "error" | "confirm";
  message: string;
  buttons: string[];
}

export class FakeHost implements Host {
  folders: string[] = ["/home/ada/projects/demo"];
  settings: Record<string, unknown> = { path: "/opt/ke/bin/kernelenv" };
  env: NodeJS.ProcessEnv = { PATH: "/usr/bin" };
  logShown = 0;
  readonly logger = new FakeLog();
  log = Object.assign(this.logger, { show: () => void this.logShown++ });
  state: Record<string, unknown> = {};
  workspaceState = {
    get: <T>(key: string, fallback: T): T => (key in this.state ? (this.state[key] as T) : fallback),
    update: async (key: string, value: unknown) => void (this.state[key] = value),
  };
  shown: Shown[] = [];
  picks: { options: PickOptions; items: PickItem<unknown>[] }[] = [];
  /** Answers to pick(): a function of the items, in order. Default: escape. */
  pickAnswers: ((items: PickItem<any>[]) => unknown)[] = [];
  dialogAnswers: (string | undefined)[] = [];
  /** Which button each notification answers, by a substring of its message; default none. */
  buttonFor: (message: string, buttons: string[]) => string | undefined = () => undefined;
  confirmAnswer = true;
  progressTitles: string[] = [];
  progressReports: { message: string; increment?: number }[] = [];
  token = new FakeToken();
  opened: string[] = [];
  notebookTabs: { paths: string[]; focus: string | undefined }[] = [];
  notebooks: KernelRef[] = [];
  settingsOpened: string[] = [];
  status: StatusBarState | undefined | null = null;
  extensions = new Set<string>();
  saved: string[] = [];
  saveAnswer = true;
  selected: { notebook: string; id: string; extension: string }[] = [];
  selectAnswer = true;

  workspaceFolders(): string[] {
    return this.folders;
  }
  setting<T>(key: string, fallback: T): T {
    return (key in this.settings ? this.settings[key] : fallback) as T;
  }
  processEnv(): NodeJS.ProcessEnv {
    return this.env;
  }
  async pick<T>(items: PickItem<T>[], options: PickOptions): Promise<T | undefined> {
    this.picks.push({ options, items });
    const answer = this.pickAnswers.shift();
    return answer ? (answer(items) as T | undefined) : undefined;
  }
  async openDialog(_options: OpenDialogOptions): Promise<string | undefined> {
    return this.dialogAnswers.shift();
  }
  private show(kind: Shown["kind"], message: string, buttons: string[]): Promise<string | undefined> {
    this.shown.push({ kind, message, buttons });
    return Promise.resolve(this.buttonFor(message, buttons));
  }
  info(message: string, ...buttons: string[]) {
    return this.show("info", message, buttons);
  }
  warn(message: string, ...buttons: string[]) {
    return this.show("warn", message, buttons);
  }
  error(message: string, ...buttons: string[]) {
    return this.show("error", message, buttons);
  }
  async confirm(message: string, _detail: string, button: string): Promise<boolean> {
    this.shown.push({ kind: "confirm", message, buttons: [button] });
    return this.confirmAnswer;
  }
  withProgress<R>(title: string, task: (progress: ProgressReporter, token: Cancellation) => Promise<R>): Promise<R> {
    this.progressTitles.push(title);
    return task({ report: (message, increment) => void this.progressReports.push({ message, increment }) }, this.token);
  }
  async openFile(p: string): Promise<void> {
    this.opened.push(p);
  }
  async openNotebooks(paths: string[], focus: string | undefined): Promise<void> {
    this.notebookTabs.push({ paths, focus });
  }
  async openNotebook(kernel: KernelRef): Promise<void> {
    this.notebooks.push(kernel);
  }
  async openSettings(query: string): Promise<void> {
    this.settingsOpened.push(query);
  }
  setStatus(state: StatusBarState | undefined): void {
    this.status = state;
  }
  hasExtension(id: string): boolean {
    return this.extensions.has(id);
  }
  async saveNotebook(p: string): Promise<boolean> {
    this.saved.push(p);
    return this.saveAnswer;
  }
  async selectKernel(notebook: string, id: string, extension: string): Promise<boolean> {
    this.selected.push({ notebook, id, extension });
    return this.selectAnswer;
  }
  /** Every notification text, for "no CLI flags or codes" checks. */
  texts(): string[] {
    return this.shown.map((s) => s.message);
  }
}

/** No notification shows a CLI flag (--x) or an error code (UPPER_CASE). */
export function assertPlainSentences(texts: string[]): void {
  for (const t of texts) {
    if (/(^|\s)--[a-z]/.test(t) || /\b[A-Z]{2,}_[A-Z_]+\b/.test(t) || /\[[A-Z_]+\]/.test(t)) {
      throw new Error(`a notification shows CLI internals: ${t}`);
    }
  }
}

export const tick = () => new Promise((r) => setImmediate(r));

// ---- a fake CLI answering with the fixture envelopes ----
import { App } from "../src/app";

export const CLI = "/opt/ke/bin/kernelenv";

export function envelope(command: string, data: Record<string, unknown>, status: "ok" | "error" = "ok", errors: unknown[] = []): string {
  return JSON.stringify({ kernelenv: 1, command, status, data, errors });
}

/** A CLI that answers each verb with its fixture; `overrides` by verb, or "verb --dry-run". */
export function cliAnswering(overrides: Record<string, Script> = {}): FakeSpawn {
  return new FakeSpawn((args) => {
    const verb = args[0];
    const key = args.includes("--dry-run") ? `${verb} --dry-run` : verb;
    if (key in overrides) {
      return overrides[key];
    }
    switch (verb) {
      case "--version":
        return { stdout: "kernelenv 0.1.0\n" };
      case "create":
        return { stdout: fixtureText("create-ok"), stderr: ['{"progress": {"stage": "install", "message": "Installing ipykernel", "current": 1, "total": 2}}'] };
      case "register":
        return { stdout: fixtureText("register-ok") };
      case "list":
        return { stdout: fixtureText("list-ok") };
      case "remove":
        return { stdout: fixtureText("remove-ok") };
      case "pythons":
        return { stdout: fixtureText("pythons-ok") };
      case "verify":
        return { stdout: fixtureText("verify-ok") };
      case "notebooks":
        return { stdout: fixtureText("notebooks-ok") };
      case "doctor":
        return { stdout: fixtureText("doctor-ok") };
      case "adopt":
        return { stdout: fixtureText("adopt-ok") };
      default:
        return { stdout: envelope(verb, {}, "error", [{ code: "USAGE", message: `invalid choice: '${verb}'`, hint: null, details: {} }]), code: 2 };
    }
  });
}

export function setup(overrides: Record<string, Script> = {}) {
  const host = new FakeHost();
  const spawn = cliAnswering(overrides);
  const fs = new FakeFs(new Set([CLI]));
  return { host, spawn, fs, app: new App(host, spawn.fn, fs) };
}

export const settle = () => new Promise((r) => setTimeout(r, 5));
