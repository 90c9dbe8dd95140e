// The JSON envelope contract of `kernelenv VERB --json` (see tests/fixtures/envelopes/README.md).
// Pure functions only: no vscode, no child_process, so unit tests run them on the same
// fixture envelopes the Python tests check.

export const ENVELOPE_VERSION = 1;

export interface CliErrorInfo {
  code: string;
  message: string;
  hint: string | null;
  details: Record<string, unknown>;
}

export interface Envelope<D = Record<string, unknown>> {
  kernelenv: number;
  command: string;
  status: "ok" | "error";
  data: D;
  errors: CliErrorInfo[];
}

export interface ProgressEvent {
  stage: string;
  message: string;
  current?: number;
  total?: number;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvelopeError";
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function need<T>(ok: boolean, what: string, value?: T): void {
  if (!ok) {
    throw new EnvelopeError(`unexpected kernelenv output: ${what}` + (value === undefined ? "" : ` (got ${JSON.stringify(value)})`));
  }
}

/** Parse and validate stdout of a `--json` run. Throws EnvelopeError when it is not one envelope. */
export function parseEnvelope(stdout: string, expectedCommand?: string): Envelope {
  const text = stdout.trim();
  need(text.length > 0, "stdout is empty, no JSON envelope");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EnvelopeError(`unexpected kernelenv output: stdout is not one JSON object (${(e as Error).message})`);
  }
  need(isObject(raw), "the envelope is not a JSON object");
  const env = raw as Record<string, unknown>;
  need(typeof env.kernelenv === "number", "no 'kernelenv' version number", env.kernelenv);
  need(env.kernelenv === ENVELOPE_VERSION, `envelope version ${String(env.kernelenv)} is not ${ENVELOPE_VERSION}; update the extension or kernelenv`);
  need(typeof env.command === "string", "no 'command'", env.command);
  if (expectedCommand !== undefined) {
    need(env.command === expectedCommand, `answer is for '${String(env.command)}', not '${expectedCommand}'`);
  }
  need(env.status === "ok" || env.status === "error", "'status' is neither ok nor error", env.status);
  need(isObject(env.data), "'data' is not an object", env.data);
  need(Array.isArray(env.errors), "'errors' is not a list", env.errors);
  const errors = (env.errors as unknown[]).map((e, i) => {
    need(isObject(e), `errors[${i}] is not an object`, e);
    const o = e as Record<string, unknown>;
    need(typeof o.code === "string" && o.code.length > 0, `errors[${i}].code is not a string`, o.code);
    need(typeof o.message === "string", `errors[${i}].message is not a string`, o.message);
    need(o.hint === undefined || o.hint === null || typeof o.hint === "string", `errors[${i}].hint is not a string or null`, o.hint);
    need(o.details === undefined || isObject(o.details), `errors[${i}].details is not an object`, o.details);
    return {
      code: o.code as string,
      message: o.message as string,
      hint: (o.hint as string | null | undefined) ?? null,
      details: (o.details as Record<string, unknown> | undefined) ?? {},
    };
  });
  return {
    kernelenv: env.kernelenv as number,
    command: env.command as string,
    status: env.status as "ok" | "error",
    data: env.data as Record<string, unknown>,
    errors,
  };
}

/** One stderr line of a --json run: a progress event, or plain log text (returns undefined). */
export function parseProgressLine(line: string): ProgressEvent | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!isObject(raw) || !isObject(raw.progress)) {
    return undefined;
  }
  const p = raw.progress;
  if (typeof p.stage !== "string") {
    return undefined;
  }
  const ev: ProgressEvent = { stage: p.stage, message: typeof p.message === "string" ? p.message : p.stage };
  if (typeof p.current === "number") {
    ev.current = p.current;
  }
  if (typeof p.total === "number" && p.total > 0) {
    ev.total = p.total;
  }
  return ev;
}

export function formatProgress(ev: ProgressEvent): string {
  const count = ev.current !== undefined && ev.total !== undefined ? ` (${ev.current}/${ev.total})` : "";
  return `${ev.message}${count}`;
}

// ---- typed views of the data the extension uses. A missing or mistyped field is a contract break. ----

function str(o: Record<string, unknown>, key: string, where: string): string {
  need(typeof o[key] === "string", `${where}.${key} is not a string`, o[key]);
  return o[key] as string;
}
function optStr(o: Record<string, unknown>, key: string, where: string): string | null {
  need(o[key] === undefined || o[key] === null || typeof o[key] === "string", `${where}.${key} is not a string or null`, o[key]);
  return (o[key] as string | null | undefined) ?? null;
}
function obj(o: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  need(isObject(o[key]), `${where}.${key} is not an object`, o[key]);
  return o[key] as Record<string, unknown>;
}
function bool(o: Record<string, unknown>, key: string, where: string): boolean {
  need(typeof o[key] === "boolean", `${where}.${key} is not a boolean`, o[key]);
  return o[key] as boolean;
}

export interface KernelRef {
  name: string;
  displayName: string;
  resourceDir: string;
  python: string;
  scope: string | null;
}

function kernelRef(k: Record<string, unknown>, where: string): KernelRef {
  return {
    name: str(k, "name", where),
    displayName: str(k, "display_name", where),
    resourceDir: str(k, "resource_dir", where),
    python: str(k, "python", where),
    scope: optStr(k, "scope", where),
  };
}

export interface CreateData {
  project: string;
  venv: string;
  venvCreated: boolean;
  pythonVersion: string | null;
  kernel: KernelRef;
  kernelspec: string;
}

export function createData(env: Envelope): CreateData {
  const d = env.data;
  const py = obj(d, "python", "data");
  return {
    project: str(d, "project", "data"),
    venv: str(d, "venv", "data"),
    venvCreated: bool(d, "venv_created", "data"),
    pythonVersion: optStr(py, "version", "data.python"),
    kernel: kernelRef(obj(d, "kernel", "data"), "data.kernel"),
    kernelspec: str(d, "kernelspec", "data"),
  };
}

export interface RegisterData {
  venv: string;
  pythonVersion: string | null;
  kernel: KernelRef;
  kernelspec: string;
}

export function registerData(env: Envelope): RegisterData {
  const d = env.data;
  const py = obj(d, "python", "data");
  return {
    venv: str(d, "venv", "data"),
    pythonVersion: optStr(py, "version", "data.python"),
    kernel: kernelRef(obj(d, "kernel", "data"), "data.kernel"),
    kernelspec: str(d, "kernelspec", "data"),
  };
}

export type KernelStatus = "ok" | "interpreter-missing" | "ipykernel-missing" | "invalid-spec" | "shadowed" | "venv-broken" | string;

export interface KernelInfo {
  name: string;
  displayName: string;
  resourceDir: string;
  python: string | null;
  language: string | null;
  owned: boolean;
  project: string | null;
  venv: string | null;
  status: KernelStatus;
  problems: string[];
}

export interface ListData {
  kernels: KernelInfo[];
  searchPath: string[];
}

export function listData(env: Envelope): ListData {
  const d = env.data;
  need(Array.isArray(d.kernels), "data.kernels is not a list", d.kernels);
  const kernels = (d.kernels as unknown[]).map((k, i) => {
    const where = `data.kernels[${i}]`;
    need(isObject(k), `${where} is not an object`, k);
    const o = k as Record<string, unknown>;
    need(Array.isArray(o.problems), `${where}.problems is not a list`, o.problems);
    return {
      name: str(o, "name", where),
      displayName: str(o, "display_name", where),
      resourceDir: str(o, "resource_dir", where),
      python: optStr(o, "python", where),
      language: optStr(o, "language", where),
      owned: bool(o, "owned", where),
      project: optStr(o, "project", where),
      venv: optStr(o, "venv", where),
      status: str(o, "status", where),
      problems: (o.problems as unknown[]).map((p) => (typeof p === "string" ? p : isObject(p) && typeof p.message === "string" ? p.message : JSON.stringify(p))),
    };
  });
  need(Array.isArray(d.search_path), "data.search_path is not a list", d.search_path);
  return { kernels, searchPath: (d.search_path as unknown[]).map(String) };
}

export interface PythonInfo {
  path: string;
  version: string | null;
  implementation: string | null;
  source: string | null;
  /** supported, can make a venv, and probed without error */
  usable: boolean;
  label: string;
}

export function pythonsData(env: Envelope): { pythons: PythonInfo[]; running: string | null } {
  const d = env.data;
  need(Array.isArray(d.pythons), "data.pythons is not a list", d.pythons);
  const pythons = (d.pythons as unknown[]).map((p, i) => {
    const where = `data.pythons[${i}]`;
    need(isObject(p), `${where} is not an object`, p);
    const o = p as Record<string, unknown>;
    const path = str(o, "path", where);
    const version = optStr(o, "version", where);
    const implementation = optStr(o, "implementation", where);
    const source = optStr(o, "source", where);
    const error = optStr(o, "error", where);
    const usable = bool(o, "supported", where) && o.can_venv !== false && error === null;
    const label = version ? `${implementation ?? "Python"} ${version}` : (path.split("/").pop() ?? path);
    return { path, version, implementation, source, usable, label };
  });
  return { pythons, running: optStr(d, "running", "data") };
}

export interface RemoveData {
  name: string;
  kernelspecRemoved: string | null;
  venvRemoved: string | null;
  venvKeptReason: string | null;
}

export function removeData(env: Envelope): RemoveData {
  const d = env.data;
  return {
    name: str(d, "name", "data"),
    kernelspecRemoved: optStr(d, "kernelspec_removed", "data"),
    venvRemoved: optStr(d, "venv_removed", "data"),
    venvKeptReason: optStr(d, "venv_kept_reason", "data"),
  };
}

// ---- things people read ----

/** "message [CODE]" plus the hint, for an error notification. */
export function errorText(env: Envelope): string {
  if (env.errors.length === 0) {
    // status "error" with no error: the verb ran and found problems (doctor, verify)
    return `kernelenv ${env.command} found problems, see the log`;
  }
  const e = env.errors[0];
  let text = `${e.message} [${e.code}]`;
  if (e.hint) {
    text += ` (${e.hint})`;
  }
  if (env.errors.length > 1) {
    text += ` and ${env.errors.length - 1} more problem(s), see the log`;
  }
  return text;
}

export const STATUS_ICONS: Record<string, string> = {
  ok: "$(pass)",
  "interpreter-missing": "$(error)",
  "ipykernel-missing": "$(warning)",
  "invalid-spec": "$(error)",
  shadowed: "$(eye-closed)",
  "venv-broken": "$(error)",
};

export function statusIcon(status: string): string {
  return STATUS_ICONS[status] ?? "$(question)";
}

/** The confirmation text of Remove Kernel, from a `remove --dry-run` answer. */
export function removeConfirmText(r: RemoveData): string {
  const parts: string[] = [];
  if (r.kernelspecRemoved) {
    parts.push(`the kernelspec ${r.kernelspecRemoved}`);
  }
  if (r.venvRemoved) {
    parts.push(`the venv ${r.venvRemoved} (kernelenv made it)`);
  }
  let text = `Remove kernel '${r.name}'? This deletes ${parts.length ? parts.join(" and ") : "nothing"}.`;
  if (!r.venvRemoved) {
    text += r.venvKeptReason ? ` The venv is kept: ${r.venvKeptReason}.` : " No venv is deleted.";
  }
  return text;
}

/** The same text built from a `list` entry, for a CLI without `remove --dry-run`. */
export function removeConfirmTextFromList(k: KernelInfo): string {
  return removeConfirmText({
    name: k.name,
    kernelspecRemoved: k.resourceDir,
    venvRemoved: k.owned && k.venv ? k.venv : null,
    venvKeptReason: k.owned ? (k.venv ? null : "the kernel has no venv") : "kernelenv did not make it",
  });
}

/** The kernel of a project folder in a `list` answer (the status bar's kernel). */
export function kernelForProject(list: ListData, projectDir: string): KernelInfo | undefined {
  const norm = (p: string) => p.replace(/[\\/]+$/, "");
  const want = norm(projectDir);
  const mine = list.kernels.filter((k) => k.project !== null && norm(k.project) === want);
  return mine.find((k) => k.status !== "shadowed") ?? mine[0];
}
