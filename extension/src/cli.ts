// Finding and running the kernelenv CLI. No vscode import: unit tests drive this with fakes.
import * as path from "path";
import { ChildLike, FsLike, SpawnFn } from "./spawn";
import { Envelope, EnvelopeError, ProgressEvent, formatProgress, parseEnvelope, parseProgressLine } from "./envelope";
import { Log } from "./host";
import { errorLogLines, errorSentence } from "./text";

/** How to start the CLI: argv prefix, e.g. ["/p/.venv/bin/kernelenv"] or ["/usr/bin/python3", "-m", "kernelenv"]. */
export interface CliInvocation {
  argv: string[];
  source: "setting" | "workspace-venv" | "python-setting" | "path";
}

export interface LocateSettings {
  path: string;
  python: string;
}

export class CliNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliNotFoundError";
  }
}

const isWin = process.platform === "win32";

function venvExecutable(folder: string): string {
  return isWin ? path.join(folder, ".venv", "Scripts", "kernelenv.exe") : path.join(folder, ".venv", "bin", "kernelenv");
}

/** Whether `python -c "import kernelenv"` works; injected so tests need no interpreter. */
export type ProbeFn = (argv: string[]) => Promise<boolean>;

export function makeProbe(spawn: SpawnFn, env: NodeJS.ProcessEnv): ProbeFn {
  return (argv) =>
    new Promise((resolve) => {
      let child: ChildLike;
      try {
        child = spawn(argv[0], argv.slice(1), { env });
      } catch {
        resolve(false);
        return;
      }
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(false);
      }, 15000);
      child.stdout?.resume();
      child.stderr?.resume();
      child.on("error", () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
    });
}

/**
 * The setting `kernelenv.path` (absolute), else the workspace's `.venv/bin/kernelenv`,
 * else `python -m kernelenv` with `kernelenv.python`, else `kernelenv` on PATH.
 */
export async function locateCli(
  settings: LocateSettings,
  workspaceFolders: readonly string[],
  envPath: string | undefined,
  fs: FsLike,
  probe: ProbeFn,
): Promise<CliInvocation> {
  const configured = settings.path.trim();
  if (configured) {
    if (!path.isAbsolute(configured)) {
      throw new CliNotFoundError(`the setting kernelenv.path must be an absolute path, not '${configured}'`);
    }
    if (!fs.isExecutableFile(configured)) {
      throw new CliNotFoundError(`the setting kernelenv.path is '${configured}', which is not an executable file`);
    }
    return { argv: [configured], source: "setting" };
  }
  for (const folder of workspaceFolders) {
    const exe = venvExecutable(folder);
    if (fs.isExecutableFile(exe)) {
      return { argv: [exe], source: "workspace-venv" };
    }
  }
  const python = settings.python.trim();
  if (python) {
    if (!path.isAbsolute(python) || !fs.isExecutableFile(python)) {
      throw new CliNotFoundError(`the setting kernelenv.python is '${python}', which is not an absolute path of an interpreter`);
    }
    if (await probe([python, "-c", "import kernelenv"])) {
      return { argv: [python, "-m", "kernelenv"], source: "python-setting" };
    }
    throw new CliNotFoundError(`kernelenv is not installed for ${python} (set in kernelenv.python)`);
  }
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const exe = path.join(dir, isWin ? "kernelenv.exe" : "kernelenv");
    if (fs.isExecutableFile(exe)) {
      return { argv: [exe], source: "path" };
    }
  }
  throw new CliNotFoundError(
    "kernelenv was not found: set kernelenv.path to its absolute path, or kernelenv.python to an interpreter that has it",
  );
}

export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export interface RunOptions {
  spawn: SpawnFn;
  log: Log;
  /** The workspace folder: every command runs there, never in the editor's launch folder. */
  cwd?: string;
  /** A background call (the status bar's `list`): everything goes to the log at trace level. */
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (ev: ProgressEvent) => void;
  token?: Cancellation;
  /** After SIGINT on cancel, SIGKILL when the CLI has not exited after this many ms. */
  killGraceMs?: number;
}

export interface CliResult {
  exitCode: number | null;
  envelope: Envelope;
  cancelled: boolean;
}

/** A run that did not succeed: the CLI's own sentence and code when it gave an envelope. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly exitCode: number | null,
    readonly envelope: Envelope | null,
    readonly cancelled = false,
    /** the program answered with something that is not a kernelenv envelope */
    readonly noEnvelope = false,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The program found as the CLI answers, but it is not kernelenv (e.g. kernelenv.path names a python). */
export class NotKernelenvError extends Error {
  constructor(readonly program: string) {
    super(`${program} is not kernelenv: it does not answer like kernelenv does`);
    this.name = "NotKernelenvError";
  }
}

export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/**
 * Run `<cli> VERB ARGS... --json`. Resolves with the parsed envelope whatever the exit code
 * (callers decide on `exitCode`); rejects with CliError when there is no valid envelope.
 */
export function runCli(cli: CliInvocation, verb: string, args: readonly string[], opts: RunOptions): Promise<CliResult> {
  const argv = [...cli.argv, verb, ...args, "--json"];
  const log = opts.log;
  const say = opts.quiet ? (l: string) => log.trace(l) : (l: string) => log.info(l);
  const detail = opts.quiet ? (l: string) => log.trace(l) : (l: string) => log.debug(l);
  say(`$ ${commandLine(argv)}${opts.cwd ? `  (in ${opts.cwd})` : ""}`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (opts.token?.isCancellationRequested) {
      reject(new CliError("cancelled", "INTERRUPTED", null, null, true));
      return;
    }
    let child: ChildLike;
    try {
      child = opts.spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env });
    } catch (e) {
      reject(new CliError(`could not start ${argv[0]}: ${(e as Error).message}`, null, null, null));
      return;
    }
    let stdout = "";
    let errBuf = "";
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const stderrLine = (line: string) => {
      const ev = parseProgressLine(line);
      if (ev) {
        detail(`[${ev.stage}] ${formatProgress(ev)}`);
        opts.onProgress?.(ev);
      } else if (line.length > 0) {
        detail(line);
      }
    };
    child.stdout?.setEncoding?.("utf8");
    child.stderr?.setEncoding?.("utf8");
    child.stdout?.on("data", (chunk: string | Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: string | Buffer) => {
      errBuf += chunk.toString();
      let nl: number;
      while ((nl = errBuf.indexOf("\n")) >= 0) {
        stderrLine(errBuf.slice(0, nl).replace(/\r$/, ""));
        errBuf = errBuf.slice(nl + 1);
      }
    });
    const sub = opts.token?.onCancellationRequested(() => {
      if (settled || cancelled) {
        return;
      }
      cancelled = true;
      log.info("cancelled: stopping kernelenv (SIGINT)");
      child.kill("SIGINT");
      killTimer = setTimeout(() => {
        log.warn("kernelenv did not stop: SIGKILL");
        child.kill("SIGKILL");
      }, opts.killGraceMs ?? 5000);
    });
    const finish = () => {
      settled = true;
      sub?.dispose();
      if (killTimer) {
        clearTimeout(killTimer);
      }
    };
    child.on("error", (err) => {
      if (settled) {
        return;
      }
      finish();
      log.error(`could not run ${argv[0]}: ${err.message}`);
      reject(new CliError(`could not run ${argv[0]}: ${err.message}`, null, null, null));
    });
    child.on("close", (code, signal) => {
      if (settled) {
        return;
      }
      finish();
      if (errBuf) {
        stderrLine(errBuf);
        errBuf = "";
      }
      if (stdout.trim()) {
        log.trace(stdout.trim()); // the raw envelope: trace level only
      }
      const took = ((Date.now() - started) / 1000).toFixed(1);
      (code === 0 ? say : (l: string) => log.warn(l))(`kernelenv ${verb}: exit code ${code ?? `none (signal ${signal})`} after ${took} s`);
      let envelope: Envelope;
      try {
        // The command must match on success; a usage error may come from before the verb was known.
        envelope = parseEnvelope(stdout, code === 0 ? verb : undefined);
      } catch (e) {
        if (cancelled || code === 130) {
          reject(new CliError("cancelled", "INTERRUPTED", code, null, true));
          return;
        }
        const why = e instanceof EnvelopeError ? e.message : String(e);
        log.error(`kernelenv ${verb}: ${why}`);
        reject(new CliError(`kernelenv ${verb} failed (exit code ${code ?? signal}): ${why}`, null, code, null, false, true));
        return;
      }
      for (const line of errorLogLines(verb, envelope.errors)) {
        (code === 0 ? detail : (l: string) => log.error(l))(line);
      }
      resolve({ exitCode: code, envelope, cancelled: cancelled || code === 130 });
    });
  });
}

/** `<cli> --version`: the version kernelenv prints, or null when the program is not kernelenv. */
export function probeVersion(spawn: SpawnFn, cli: CliInvocation, env: NodeJS.ProcessEnv, cwd?: string): Promise<string | null> {
  return new Promise((resolve) => {
    let child: ChildLike;
    try {
      child = spawn(cli.argv[0], [...cli.argv.slice(1), "--version"], { env, cwd });
    } catch {
      resolve(null);
      return;
    }
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, 15000);
    child.stdout?.on("data", (c: string | Buffer) => (out += c.toString()));
    child.stderr?.resume();
    child.on("error", () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const m = /^kernelenv (\S+)/m.exec(out);
      resolve(code === 0 && m ? m[1] : null);
    });
  });
}

/** The envelope of a successful run, or a CliError carrying the CLI's sentence and code. */
export function expectOk(result: CliResult): Envelope {
  const env = result.envelope;
  if (result.cancelled) {
    throw new CliError("cancelled", "INTERRUPTED", result.exitCode, env, true);
  }
  if (result.exitCode === 0) {
    return env;
  }
  throw new CliError(errorSentence(env), env.errors[0]?.code ?? null, result.exitCode, env);
}
