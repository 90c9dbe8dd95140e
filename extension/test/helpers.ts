// Fakes of the two thin wrappers (the editor Host and child_process spawn), and the shared fixtures.
import * as fs from "fs";
import * as path from "path";
import { EventEmitter } from "events";
import { PassThrough } from "stream";
import { Cancellation } from "../src/cli";
import { KernelRef } from "../src/envelope";
import { Host, OpenDialogOptions, PickItem, ProgressReporter, StatusBarState } from "../src/host";
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
  constructor(public executables: Set<string> = new Set()) {}
  isExecutableFile(p: string): boolean {
    return this.executables.has(p);
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
  lines: string[] = [];
  logShown = 0;
  log = { append: (l: string) => void this.lines.push(l), show: () => void this.logShown++ };
  shown: Shown[] = [];
  picks: { title: string; items: PickItem<unknown>[] }[] = [];
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
  notebooks: KernelRef[] = [];
  settingsOpened: string[] = [];
  status: StatusBarState | undefined | null = null;

  workspaceFolders(): string[] {
    return this.folders;
  }
  setting<T>(key: string, fallback: T): T {
    return (key in this.settings ? this.settings[key] : fallback) as T;
  }
  processEnv(): NodeJS.ProcessEnv {
    return this.env;
  }
  async pick<T>(items: PickItem<T>[], options: { title: string; placeholder: string }): Promise<T | undefined> {
    this.picks.push({ title: options.title, items });
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
  async openNotebook(kernel: KernelRef): Promise<void> {
    this.notebooks.push(kernel);
  }
  async openSettings(query: string): Promise<void> {
    this.settingsOpened.push(query);
  }
  setStatus(state: StatusBarState | undefined): void {
    this.status = state;
  }
}

export const tick = () => new Promise((r) => setImmediate(r));
