// The plumbing every command shares: finding the CLI, running it in the workspace folder with
// progress, and turning failures into one notification with a sentence and buttons.
// No vscode import: the editor is reached through Host, processes through SpawnFn.
import * as path from "path";
import {
  Cancellation,
  CliError,
  CliInvocation,
  CliNotFoundError,
  CliResult,
  NotKernelenvError,
  locateCli,
  makeProbe,
  probeVersion,
  runCli,
} from "./cli";
import { Envelope, ProgressEvent, formatProgress } from "./envelope";
import { Host, PickItem, ProgressReporter } from "./host";
import { FsLike, SpawnFn } from "./spawn";
import { listData, ListData } from "./views";

/** publisher.name in package.json: Configure opens the settings filtered by it. */
export const EXTENSION_ID = "kernelenv.kernelenv";

export const COMMANDS = {
  create: "kernelenv.createProject",
  register: "kernelenv.registerEnvironment",
  show: "kernelenv.showKernels",
  remove: "kernelenv.removeKernel",
  verify: "kernelenv.verify",
  tutorials: "kernelenv.openTutorials",
  showLog: "kernelenv.showLog",
  refresh: "kernelenv.refreshStatus",
} as const;

export const BUTTONS = {
  openNotebook: "Open a Notebook",
  showLog: "Show Log",
  configure: "Configure",
  remove: "Remove",
  installIpykernel: "Install ipykernel",
  openNotebooks: "Open Executed Notebooks",
  runAgain: "Run Again",
  useKernel: "Use It",
  notNow: "Not Now",
  dontAsk: "Don't Ask Again",
} as const;

export interface RunExtra {
  /** Defaults to the workspace folder; the CLI never runs in the editor's launch folder. */
  cwd?: string;
  progress?: ProgressReporter;
  token?: Cancellation;
  quiet?: boolean;
}

export class App {
  /** The last `list` answer (the status bar refreshes it), for questions that need no fresh one. */
  lastList: ListData | undefined;

  constructor(
    readonly host: Host,
    readonly spawn: SpawnFn,
    readonly fs: FsLike,
  ) {}

  /** The workspace folder a command runs in: the one holding `p`, else the first. */
  folderFor(p?: string): string | undefined {
    const folders = this.host.workspaceFolders();
    if (p) {
      const holding = folders
        .filter((f) => p === f || p.startsWith(f.endsWith(path.sep) ? f : f + path.sep))
        .sort((a, b) => b.length - a.length);
      if (holding.length) {
        return holding[0];
      }
    }
    return folders[0];
  }

  async cli(): Promise<CliInvocation> {
    const env = this.host.processEnv();
    return locateCli(
      { path: this.host.setting("path", ""), python: this.host.setting("python", "") },
      this.host.workspaceFolders(),
      env.PATH,
      this.fs,
      makeProbe(this.spawn, env),
    );
  }

  /** `kernelenv VERB ARGS --json` in the workspace folder. A program that answers without an
   * envelope is checked with `--version`: when it is not kernelenv, NotKernelenvError. */
  async run(cli: CliInvocation, verb: string, args: string[], extra: RunExtra = {}): Promise<CliResult> {
    let last = 0;
    const cwd = extra.cwd ?? this.folderFor();
    try {
      return await runCli(cli, verb, args, {
        spawn: this.spawn,
        log: this.host.log,
        cwd,
        quiet: extra.quiet,
        env: this.host.processEnv(),
        token: extra.token,
        onProgress: (ev: ProgressEvent) => {
          if (!extra.progress) {
            return;
          }
          let increment: number | undefined;
          if (ev.current !== undefined && ev.total !== undefined) {
            const pct = Math.min(100, (100 * ev.current) / ev.total);
            if (pct > last) {
              increment = pct - last;
              last = pct;
            }
          }
          extra.progress.report(formatProgress(ev), increment);
        },
      });
    } catch (e) {
      if (e instanceof CliError && e.noEnvelope && (await probeVersion(this.spawn, cli, this.host.processEnv(), cwd)) === null) {
        throw new NotKernelenvError(cli.argv.join(" "));
      }
      throw e;
    }
  }

  /** Run with a cancellable progress notification. */
  runWithProgress(cli: CliInvocation, title: string, verb: string, args: string[], cwd?: string): Promise<CliResult> {
    return this.host.withProgress(title, (progress, token) => this.run(cli, verb, args, { cwd, progress, token }));
  }

  /** `list`, quietly (no log lines but at trace level); remembered for later questions. */
  async list(cli: CliInvocation, quiet = true): Promise<ListData> {
    const result = await this.run(cli, "list", [], { quiet });
    if (result.exitCode !== 0) {
      throw new CliError(`kernelenv list failed (exit code ${result.exitCode})`, result.envelope.errors[0]?.code ?? null, result.exitCode, result.envelope);
    }
    this.lastList = listData(result.envelope);
    return this.lastList;
  }

  /** Every command goes through here: errors become one notification with a sentence and buttons. */
  async guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      await this.report(e);
    }
  }

  async configure(): Promise<void> {
    await this.host.openSettings(`@ext:${EXTENSION_ID}`);
  }

  async report(e: unknown): Promise<void> {
    const log = this.host.log;
    if (e instanceof CliNotFoundError || e instanceof NotKernelenvError) {
      log.error(e.message);
      const text = e instanceof NotKernelenvError ? `Kernelenv: ${e.program} is not kernelenv. Set kernelenv.path to the kernelenv program.` : `Kernelenv: ${e.message}.`;
      if ((await this.host.error(text, BUTTONS.configure)) === BUTTONS.configure) {
        await this.configure();
      }
      return;
    }
    if (e instanceof CliError && e.cancelled) {
      log.info("cancelled");
      void this.host.info("Kernelenv: cancelled; kernelenv cleaned up what the run had made.");
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (!(e instanceof CliError && e.envelope)) {
      log.error(msg); // a CLI error with an envelope was logged with its code when it arrived
    }
    if ((await this.host.error(`Kernelenv: ${msg}`, BUTTONS.showLog)) === BUTTONS.showLog) {
      log.show();
    }
  }

  /** A question with items; undefined when escaped. */
  pick<T>(items: PickItem<T>[], title: string, placeholder: string, step?: [number, number]): Promise<T | undefined> {
    return this.host.pick(items, { title, placeholder, step: step?.[0], totalSteps: step?.[1] });
  }

  /** The workspace folder of the project: asked when there are several, a dialog when none. */
  async pickFolder(title: string, step?: [number, number]): Promise<string | undefined> {
    const folders = this.host.workspaceFolders();
    if (folders.length === 1) {
      return folders[0];
    }
    if (folders.length > 1) {
      return this.pick(folders.map((f) => ({ label: path.basename(f), description: f, value: f })), title, "The project's workspace folder", step);
    }
    return this.host.openDialog({ folders: true, title, openLabel: "Use This Folder" });
  }
}

/** The envelope's first error code, for the decisions commands make on it. */
export function hasError(env: Envelope, code: string): boolean {
  return env.errors.some((e) => e.code === code);
}
