// The palette commands. Every decision stays in the CLI: these ask, show progress and report.
// No vscode import: the editor is reached through Host, processes through SpawnFn.
import * as path from "path";
import {
  CliError,
  CliInvocation,
  CliNotFoundError,
  CliResult,
  expectOk,
  isUsageError,
  locateCli,
  makeProbe,
  runCli,
} from "./cli";
import {
  Envelope,
  KernelInfo,
  KernelRef,
  ProgressEvent,
  createData,
  errorText,
  formatProgress,
  kernelForProject,
  listData,
  pythonsData,
  registerData,
  removeConfirmText,
  removeConfirmTextFromList,
  removeData,
  statusIcon,
} from "./envelope";
import { Host, PickItem, ProgressReporter } from "./host";
import { FsLike, SpawnFn } from "./spawn";

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

export const PROFILES = ["minimal", "data", "dl"] as const;

export const BUTTONS = {
  openNotebook: "Open a notebook",
  showLog: "Show Log",
  configure: "Configure",
  remove: "Remove",
  installIpykernel: "Install ipykernel",
  openNotebooks: "Open Executed Notebooks",
} as const;

export interface NotebookResult {
  name: string;
  /** passed, failed, skipped (verify); written, updated, unchanged, kept (notebooks) */
  state: string;
  ok: boolean;
  /** the executed notebook (verify) or the copied one (notebooks), else the source */
  path: string | null;
  message: string | null;
}

const BAD_STATES = new Set(["failed", "error"]);

/** Rows of `verify` / `notebooks` data, read tolerantly: an unknown key is never fatal here. */
export function notebookResults(data: Record<string, unknown>): { results: NotebookResult[]; outputDir: string | null } {
  const list = Array.isArray(data.notebooks) ? data.notebooks : [];
  const results: NotebookResult[] = [];
  for (const item of list as unknown[]) {
    if (typeof item !== "object" || item === null) {
      continue;
    }
    const o = item as Record<string, unknown>;
    const p = [o.output, o.path].find((v) => typeof v === "string") as string | undefined;
    const name = typeof o.name === "string" ? o.name : p ? path.basename(p) : "notebook";
    const state = typeof o.status === "string" ? o.status : typeof o.state === "string" ? o.state : "ok";
    let message: string | null = null;
    if (typeof o.error === "string") {
      message = o.error;
    } else if (typeof o.error === "object" && o.error !== null) {
      const e = o.error as Record<string, unknown>;
      message = [e.ename && e.evalue ? `${String(e.ename)}: ${String(e.evalue)}` : null, e.fix ? `fix: ${String(e.fix)}` : null].filter(Boolean).join("; ") || null;
    }
    results.push({ name, state, ok: !BAD_STATES.has(state), path: p ?? null, message });
  }
  const out = [data.output_dir, data.dest].find((v) => typeof v === "string") as string | undefined;
  return { results, outputDir: out ?? null };
}

/** Problems of a `doctor` answer, one line each with its fix. */
export function doctorProblems(data: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Array.isArray(data.kernels) ? (data.kernels as unknown[]) : []) {
    if (typeof k !== "object" || k === null) {
      continue;
    }
    const kr = k as Record<string, unknown>;
    for (const p of Array.isArray(kr.problems) ? (kr.problems as unknown[]) : []) {
      if (typeof p === "object" && p !== null) {
        const pr = p as Record<string, unknown>;
        out.push(`${String(kr.name ?? "")}: ${String(pr.message ?? pr.code ?? "problem")}${pr.fix ? ` (fix: ${String(pr.fix)})` : ""}`);
      } else if (typeof p === "string") {
        out.push(`${String(kr.name ?? "")}: ${p}`);
      }
    }
  }
  return out;
}

export class Kernelenv {
  constructor(
    private readonly host: Host,
    private readonly spawn: SpawnFn,
    private readonly fs: FsLike,
  ) {}

  // ---- plumbing ----

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

  private run(cli: CliInvocation, verb: string, args: string[], extra: { cwd?: string; progress?: ProgressReporter; token?: Parameters<typeof runCli>[3]["token"] } = {}): Promise<CliResult> {
    let last = 0;
    return runCli(cli, verb, args, {
      spawn: this.spawn,
      log: this.host.log,
      cwd: extra.cwd,
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
  }

  /** Run with a cancellable progress notification. */
  private runWithProgress(cli: CliInvocation, title: string, verb: string, args: string[], cwd?: string): Promise<CliResult> {
    return this.host.withProgress(title, (progress, token) => this.run(cli, verb, args, { cwd, progress, token }));
  }

  /** Every command goes through here: errors become one notification with the CLI's words. */
  async guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      await this.report(e);
    }
  }

  async report(e: unknown): Promise<void> {
    if (e instanceof CliNotFoundError) {
      this.host.log.append(`error: ${e.message}`);
      const choice = await this.host.error(`Kernelenv: ${e.message}`, BUTTONS.configure);
      if (choice === BUTTONS.configure) {
        await this.host.openSettings("kernelenv");
      }
      return;
    }
    if (e instanceof CliError) {
      if (e.cancelled) {
        this.host.log.append("cancelled");
        void this.host.info("Kernelenv: cancelled; kernelenv cleaned up what the run had made.");
        return;
      }
      this.host.log.append(`error: ${e.message}`);
      const choice = await this.host.error(`Kernelenv: ${e.message}`, BUTTONS.showLog);
      if (choice === BUTTONS.showLog) {
        this.host.log.show();
      }
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    this.host.log.append(`error: ${msg}`);
    const choice = await this.host.error(`Kernelenv: ${msg}`, BUTTONS.showLog);
    if (choice === BUTTONS.showLog) {
      this.host.log.show();
    }
  }

  private async pickFolder(title: string): Promise<string | undefined> {
    const folders = this.host.workspaceFolders();
    if (folders.length === 1) {
      return folders[0];
    }
    if (folders.length > 1) {
      return this.host.pick(
        folders.map((f) => ({ label: path.basename(f), description: f, value: f })),
        { title, placeholder: "Workspace folder of the project" },
      );
    }
    return this.host.openDialog({ folders: true, title, openLabel: "Use this folder" });
  }

  /** `pythons --json` when that verb exists; undefined = the CLI's default; null = the user escaped. */
  private async pickPython(cli: CliInvocation): Promise<string | undefined | null> {
    let result: CliResult;
    try {
      result = await this.run(cli, "pythons", []);
    } catch {
      return undefined; // an older CLI: no such verb
    }
    if (result.exitCode !== 0 || isUsageError(result)) {
      return undefined;
    }
    let choices;
    try {
      choices = pythonsData(result.envelope).pythons.filter((p) => p.usable);
    } catch (e) {
      this.host.log.append(`ignoring the pythons answer: ${(e as Error).message}`);
      return undefined;
    }
    if (choices.length <= 1) {
      return undefined;
    }
    const items: PickItem<string>[] = [
      { label: "$(star) Default", description: "the interpreter kernelenv picks", value: "" },
      ...choices.map((c) => ({ label: c.label, description: c.path, detail: c.source ?? undefined, value: c.path })),
    ];
    const picked = await this.host.pick(items, { title: "Kernelenv: Python for the project", placeholder: "Interpreter for the new venv" });
    if (picked === undefined) {
      return null; // escaped
    }
    return picked || undefined;
  }

  private async pickProfile(): Promise<string | undefined | null> {
    const configured = this.host.setting<string>("defaultProfile", "");
    if (configured) {
      return configured;
    }
    const items: PickItem<string>[] = [
      { label: "minimal", description: "ipykernel only", value: "minimal" },
      { label: "data", description: "ipykernel and the usual data packages", value: "data" },
      { label: "dl", description: "data plus a deep-learning framework", value: "dl" },
    ];
    const picked = await this.host.pick(items, { title: "Kernelenv: profile", placeholder: "What to install into the venv" });
    return picked ?? null;
  }

  private scopeArgs(): string[] {
    const scope = this.host.setting<string>("scope", "user");
    return scope === "sys-prefix" ? ["--sys-prefix"] : ["--user"];
  }

  private announce(kernel: KernelRef, what: string): void {
    const text = `Kernelenv: ${what} kernel '${kernel.displayName}' (${kernel.name}), Python ${kernel.python}.`;
    void this.host.info(text, BUTTONS.openNotebook, BUTTONS.showLog).then(async (choice) => {
      if (choice === BUTTONS.openNotebook) {
        await this.host.openNotebook(kernel);
      } else if (choice === BUTTONS.showLog) {
        this.host.log.show();
      }
    });
  }

  // ---- commands ----

  async createProject(): Promise<void> {
    const folder = await this.pickFolder("Kernelenv: Create Project Environment");
    if (!folder) {
      return;
    }
    const cli = await this.cli();
    const python = await this.pickPython(cli);
    if (python === null) {
      return;
    }
    const profile = await this.pickProfile();
    if (profile === null) {
      return;
    }
    const args = [folder];
    if (python) {
      args.push("--python", python);
    }
    if (profile && profile !== "minimal") {
      args.push("--profile", profile);
    }
    args.push(...this.scopeArgs());
    const result = await this.runWithProgress(cli, `Kernelenv: creating the environment of ${path.basename(folder)}`, "create", args, folder);
    const data = createData(expectOk(result));
    await this.refreshStatus();
    this.announce(data.kernel, data.venvCreated ? "created" : "updated");
  }

  async registerEnvironment(): Promise<void> {
    const kind = await this.host.pick(
      [
        { label: "$(folder) A venv folder", value: "folder" as const },
        { label: "$(file) A Python interpreter", value: "file" as const },
      ],
      { title: "Kernelenv: Register Existing Environment", placeholder: "What to register" },
    );
    if (!kind) {
      return;
    }
    const target = await this.host.openDialog({
      folders: kind === "folder",
      title: kind === "folder" ? "The venv folder to register" : "The interpreter to register",
      openLabel: "Register",
      defaultPath: this.host.workspaceFolders()[0],
    });
    if (!target) {
      return;
    }
    const cli = await this.cli();
    const title = `Kernelenv: registering ${path.basename(target)}`;
    let result = await this.runWithProgress(cli, title, "register", [target]);
    if (result.exitCode !== 0 && result.envelope.errors.some((e) => e.code === "IPYKERNEL_MISSING")) {
      const choice = await this.host.warn(`Kernelenv: ${errorText(result.envelope)}`, BUTTONS.installIpykernel, BUTTONS.showLog);
      if (choice === BUTTONS.showLog) {
        this.host.log.show();
      }
      if (choice !== BUTTONS.installIpykernel) {
        return;
      }
      result = await this.runWithProgress(cli, title, "register", [target, "--install-ipykernel"]);
    }
    const data = registerData(expectOk(result));
    await this.refreshStatus();
    this.announce(data.kernel, "registered");
  }

  private async kernels(cli: CliInvocation): Promise<KernelInfo[]> {
    return listData(expectOk(await this.run(cli, "list", []))).kernels;
  }

  kernelItems(kernels: KernelInfo[]): PickItem<KernelInfo>[] {
    return kernels.map((k) => ({
      label: `${statusIcon(k.status)} ${k.displayName}`,
      description: k.status === "ok" ? k.name : `${k.name}: ${k.status}`,
      detail: [k.python ?? "(no interpreter)", ...k.problems].join(" · "),
      value: k,
    }));
  }

  async showKernels(): Promise<void> {
    const cli = await this.cli();
    const kernels = await this.kernels(cli);
    if (kernels.length === 0) {
      await this.host.info("Kernelenv: Jupyter sees no kernels.");
      return;
    }
    const kernel = await this.host.pick(this.kernelItems(kernels), { title: "Kernelenv: Kernels", placeholder: "Choose a kernel" });
    if (!kernel) {
      return;
    }
    const action = await this.host.pick(
      [
        { label: "$(trash) Remove", description: kernel.owned ? "kernelspec and the venv kernelenv made" : "kernelspec", value: "remove" },
        { label: "$(checklist) Doctor", description: "check this kernel", value: "doctor" },
        { label: "$(go-to-file) Open kernel.json", description: kernel.resourceDir, value: "open" },
      ],
      { title: `Kernelenv: ${kernel.displayName}`, placeholder: kernel.name },
    );
    if (action === "remove") {
      await this.removeKernel(kernel.name);
    } else if (action === "doctor") {
      await this.doctor(cli, kernel);
    } else if (action === "open") {
      await this.host.openFile(path.join(kernel.resourceDir, "kernel.json"));
    }
  }

  private async doctor(cli: CliInvocation, kernel: KernelInfo): Promise<void> {
    const result = await this.runWithProgress(cli, `Kernelenv: checking ${kernel.name}`, "doctor", [kernel.name]);
    if (result.cancelled) {
      expectOk(result);
    }
    if (isUsageError(result)) {
      await this.host.warn("Kernelenv: this kernelenv has no `doctor` yet; update it.");
      return;
    }
    if (result.exitCode === 0) {
      await this.host.info(`Kernelenv: kernel '${kernel.name}' is healthy.`);
      return;
    }
    const problems = doctorProblems(result.envelope.data);
    for (const p of problems) {
      this.host.log.append(`problem: ${p}`);
    }
    const why = result.envelope.errors.length ? errorText(result.envelope) : problems[0] ?? `kernel '${kernel.name}' has problems`;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more, see the log)` : "";
    const choice = await this.host.warn(`Kernelenv: ${why}${more}`, BUTTONS.showLog);
    if (choice === BUTTONS.showLog) {
      this.host.log.show();
    }
  }

  async removeKernel(name?: string): Promise<void> {
    const cli = await this.cli();
    let entry: KernelInfo | undefined;
    if (!name) {
      const kernels = await this.kernels(cli);
      if (kernels.length === 0) {
        await this.host.info("Kernelenv: Jupyter sees no kernels.");
        return;
      }
      entry = await this.host.pick(this.kernelItems(kernels), { title: "Kernelenv: Remove Kernel", placeholder: "The kernel to remove" });
      if (!entry) {
        return;
      }
      name = entry.name;
    }
    // Ask the CLI what it would delete; fall back to the list entry for a CLI without --dry-run.
    const dry = await this.run(cli, "remove", [name, "--dry-run"]);
    let question: string;
    if (dry.exitCode === 0) {
      question = removeConfirmText(removeData(dry.envelope));
    } else if (isUsageError(dry)) {
      entry = entry ?? (await this.kernels(cli)).find((k) => k.name === name);
      if (!entry) {
        throw new CliError(`no kernel named '${name}'`, "KERNEL_NOT_FOUND", dry.exitCode, null);
      }
      question = removeConfirmTextFromList(entry);
    } else {
      expectOk(dry); // throws with the CLI's message (not found, not owned...)
      return;
    }
    if (!(await this.host.confirm(question, "This cannot be undone.", BUTTONS.remove))) {
      return;
    }
    const result = await this.runWithProgress(cli, `Kernelenv: removing ${name}`, "remove", [name]);
    const data = removeData(expectOk(result));
    await this.refreshStatus();
    const gone = [data.kernelspecRemoved, data.venvRemoved].filter((p): p is string => !!p);
    void this.host.info(`Kernelenv: removed kernel '${data.name}' (deleted ${gone.join(" and ") || "nothing"}).`);
  }

  /** Run Verification Notebooks / Open Tutorial Notebooks: progress per notebook, summary, open button. */
  async runNotebooks(verb: "verify" | "notebooks"): Promise<void> {
    const verify = verb === "verify";
    const folder = await this.pickFolder(verify ? "Kernelenv: Run Verification Notebooks" : "Kernelenv: Open Tutorial Notebooks");
    if (!folder) {
      return;
    }
    const cli = await this.cli();
    const args = verify ? [folder] : ["--project", folder];
    const title = verify ? "Kernelenv: running the verification notebooks" : "Kernelenv: copying the tutorial notebooks";
    const result = await this.runWithProgress(cli, title, verb, args, folder);
    if (result.cancelled) {
      expectOk(result);
    }
    if (isUsageError(result)) {
      await this.host.warn(`Kernelenv: this kernelenv has no \`${verb}\` yet; update it.`);
      return;
    }
    const { results, outputDir } = notebookResults(result.envelope.data);
    for (const r of results) {
      this.host.log.append(`${r.state.toUpperCase()} ${r.name}${r.path ? `  ${r.path}` : ""}${r.message ? `: ${r.message}` : ""}`);
    }
    const files = results
      .filter((r) => r.state !== "skipped")
      .map((r) => r.path)
      .filter((p): p is string => !!p && p.endsWith(".ipynb"));
    if (!verify && result.exitCode === 0) {
      for (const f of files.slice(0, 10)) {
        await this.host.openFile(f);
      }
    }
    const failed = results.filter((r) => !r.ok);
    const count = (state: string) => results.filter((r) => r.state === state).length;
    const where = outputDir ? ` in ${outputDir}` : "";
    const buttons = verify && files.length ? [BUTTONS.openNotebooks, BUTTONS.showLog] : [BUTTONS.showLog];
    let choice: string | undefined;
    if (result.exitCode === 0) {
      const summary = verify
        ? `${count("passed")} notebook(s) passed${count("skipped") ? `, ${count("skipped")} skipped` : ""}${where}.`
        : `${results.length} tutorial notebook(s)${where}, set to the project's kernel.`;
      choice = await this.host.info(`Kernelenv: ${summary}`, ...buttons);
    } else {
      const why = failed.length
        ? `${failed.length} of ${results.length} notebook(s) failed: ${failed.map((f) => f.name + (f.message ? ` (${f.message})` : "")).join(", ")}`
        : errorText(result.envelope);
      choice = await this.host.warn(`Kernelenv: ${why}`, ...buttons);
    }
    if (choice === BUTTONS.showLog) {
      this.host.log.show();
    } else if (choice === BUTTONS.openNotebooks) {
      for (const f of files.slice(0, 10)) {
        await this.host.openFile(f);
      }
    }
  }

  /** The status bar item: the workspace project's kernel and its health. Never pops up errors. */
  async refreshStatus(): Promise<void> {
    const folders = this.host.workspaceFolders();
    if (folders.length === 0) {
      this.host.setStatus(undefined);
      return;
    }
    let cli: CliInvocation;
    try {
      cli = await this.cli();
    } catch (e) {
      this.host.log.append(`status: ${(e as Error).message}`);
      this.host.setStatus({
        text: "$(warning) kernelenv",
        tooltip: `Kernelenv: ${(e as Error).message}. Click to configure.`,
        command: "workbench.action.openSettings",
        warning: true,
      });
      return;
    }
    let env: Envelope;
    try {
      env = expectOk(await this.run(cli, "list", []));
    } catch (e) {
      this.host.log.append(`status: ${(e as Error).message}`);
      this.host.setStatus({ text: "$(warning) kernelenv", tooltip: `Kernelenv: ${(e as Error).message}`, command: COMMANDS.showLog, warning: true });
      return;
    }
    const list = listData(env);
    for (const folder of folders) {
      const k = kernelForProject(list, folder);
      if (k) {
        this.host.setStatus({
          text: `${statusIcon(k.status)} ${k.name}`,
          tooltip: `Kernelenv: kernel '${k.displayName}' for ${folder}\n${k.python ?? ""}\nstatus: ${k.status}${k.problems.length ? "\n" + k.problems.join("\n") : ""}`,
          command: COMMANDS.show,
          warning: k.status !== "ok",
        });
        return;
      }
    }
    this.host.setStatus({ text: "$(add) kernelenv", tooltip: "Kernelenv: this project has no kernel yet. Click to create one.", command: COMMANDS.create });
  }
}
