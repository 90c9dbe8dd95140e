// Finding and running the kernelenv CLI. No vscode import: unit tests drive this with fakes.
import * as path from "path";
import { ChildLike, FsLike, SpawnFn } from "./spawn";
import { Envelope, EnvelopeError, ProgressEvent, errorText, formatProgress, parseEnvelope, parseProgressLine } from "./envelope";

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

export interface Log {
  append(line: string): void;
}

export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export interface RunOptions {
  spawn: SpawnFn;
  log: Log;
  cwd?: string;
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

/** A run that did not succeed: the CLI's own message and code when it gave an envelope. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
    readonly exitCode: number | null,
    readonly envelope: Envelope | null,
    readonly cancelled = false,
  ) {
    super(message);
    this.name = "CliError";
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
  opts.log.append(`$ ${commandLine(argv)}`);
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
        opts.log.append(`  [${ev.stage}] ${formatProgress(ev)}`);
        opts.onProgress?.(ev);
      } else if (line.length > 0) {
        opts.log.append(line);
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
      opts.log.append("cancelled: stopping kernelenv (SIGINT)");
      child.kill("SIGINT");
      killTimer = setTimeout(() => {
        opts.log.append("kernelenv did not stop: SIGKILL");
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
      opts.log.append(`could not run ${argv[0]}: ${err.message}`);
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
        opts.log.append(stdout.trim());
      }
      opts.log.append(`exit code ${code ?? `none (signal ${signal})`}`);
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
        reject(new CliError(`kernelenv ${verb} failed (exit code ${code ?? signal}): ${why}`, null, code, null));
        return;
      }
      resolve({ exitCode: code, envelope, cancelled: cancelled || code === 130 });
    });
  });
}

/** The envelope of a successful run, or a CliError carrying the CLI's message and code. */
export function expectOk(result: CliResult): Envelope {
  const env = result.envelope;
  if (result.cancelled) {
    throw new CliError("cancelled", "INTERRUPTED", result.exitCode, env, true);
  }
  if (result.exitCode === 0) {
    return env;
  }
  throw new CliError(errorText(env), env.errors[0]?.code ?? null, result.exitCode, env);
}

/** Whether a failed run says the verb or option does not exist yet (argparse usage error). */
export function isUsageError(result: CliResult): boolean {
  return result.exitCode === 2 || result.envelope.errors.some((e) => e.code === "USAGE");
}
