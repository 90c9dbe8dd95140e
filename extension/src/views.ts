// Strict typed views of the data of every envelope the extension reads. A missing or mistyped
// field the extension uses is a contract break (EnvelopeError); extra keys are a compatible change.
// Keys the CLI contract marks optional (`skip`, `action`, `default`) may be absent.
import {
  Envelope,
  Json,
  bool,
  maybeObj,
  need,
  num,
  obj,
  objects,
  oneOf,
  optNum,
  optObj,
  optStr,
  str,
  strings,
} from "./envelope";

export interface KernelRef {
  name: string;
  displayName: string;
  resourceDir: string;
  python: string;
  scope: string | null;
}

function kernelRef(k: Json, where: string): KernelRef {
  return {
    name: str(k, "name", where),
    displayName: str(k, "display_name", where),
    resourceDir: str(k, "resource_dir", where),
    python: str(k, "python", where),
    scope: optStr(k, "scope", where),
  };
}

/** A kernelenv command line the extension can run as a button: `kernelenv ARGV... --json`. */
export interface Action {
  label: string;
  argv: string[];
}

function optAction(o: Json, where: string): Action | null {
  const a = maybeObj(o, "action", where);
  if (a === null) {
    return null;
  }
  const at = `${where}.action`;
  const argv = strings(a, "argv", at);
  need(argv.length > 0, `${at}.argv is empty`);
  need(!argv.includes("--json") && argv[0] !== "kernelenv", `${at}.argv must hold kernelenv's arguments only`, argv);
  return { label: str(a, "label", at), argv };
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
  return {
    project: str(d, "project", "data"),
    venv: str(d, "venv", "data"),
    venvCreated: bool(d, "venv_created", "data"),
    pythonVersion: optStr(obj(d, "python", "data"), "version", "data.python"),
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
  return {
    venv: str(d, "venv", "data"),
    pythonVersion: optStr(obj(d, "python", "data"), "version", "data.python"),
    kernel: kernelRef(obj(d, "kernel", "data"), "data.kernel"),
    kernelspec: str(d, "kernelspec", "data"),
  };
}

/** ok, interpreter-missing, ipykernel-missing, invalid-spec, shadowed, venv-broken, or one a later CLI adds */
export type KernelStatus = string;

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
  const kernels = objects(d, "kernels", "data").map(([o, where]) => ({
    name: str(o, "name", where),
    displayName: str(o, "display_name", where),
    resourceDir: str(o, "resource_dir", where),
    python: optStr(o, "python", where),
    language: optStr(o, "language", where),
    owned: bool(o, "owned", where),
    project: optStr(o, "project", where),
    venv: optStr(o, "venv", where),
    status: str(o, "status", where),
    problems: strings(o, "problems", where),
  }));
  return { kernels, searchPath: strings(d, "search_path", "data") };
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

export interface PythonsData {
  pythons: PythonInfo[];
  /** the interpreter kernelenv runs on */
  running: string | null;
  /** what `create` would take for the project, when the CLI says (optional) */
  default: { path: string; version: string | null } | null;
}

export function pythonsData(env: Envelope): PythonsData {
  const d = env.data;
  const pythons = objects(d, "pythons", "data").map(([o, where]) => {
    const path = str(o, "path", where);
    const version = optStr(o, "version", where);
    const implementation = optStr(o, "implementation", where);
    const error = optStr(o, "error", where);
    const usable = bool(o, "supported", where) && bool(o, "can_venv", where) && error === null;
    const label = version ? `${implementation ?? "Python"} ${version}` : (path.split("/").pop() ?? path);
    return { path, version, implementation, source: optStr(o, "source", where), usable, label };
  });
  const def = maybeObj(d, "default", "data");
  return {
    pythons,
    running: optStr(d, "running", "data"),
    default: def ? { path: str(def, "path", "data.default"), version: optStr(def, "version", "data.default") } : null,
  };
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

export interface VerifyError {
  cell: number | null;
  line: number | null;
  ename: string;
  evalue: string;
  fix: string | null;
}

export interface VerifyRow {
  name: string;
  /** the notebook that was run (inside the installed package for the tutorial ones: never opened) */
  path: string;
  /** the executed copy, null when it was not run */
  output: string | null;
  status: "passed" | "failed" | "skipped";
  duration: number;
  error: VerifyError | null;
  skip: { reason: string; message: string } | null;
  action: Action | null;
}

export interface VerifyData {
  kernel: { name: string; displayName: string };
  project: string | null;
  notebooksDir: string;
  outputDir: string;
  notebooks: VerifyRow[];
  passed: number;
  failed: number;
  skipped: number;
}

export function verifyData(env: Envelope): VerifyData {
  const d = env.data;
  const k = obj(d, "kernel", "data");
  const notebooks = objects(d, "notebooks", "data").map(([o, where]): VerifyRow => {
    const e = optObj(o, "error", where);
    const s = maybeObj(o, "skip", where);
    return {
      name: str(o, "name", where),
      path: str(o, "path", where),
      output: optStr(o, "output", where),
      status: oneOf(o, "status", where, ["passed", "failed", "skipped"] as const),
      duration: num(o, "duration", where),
      error: e && {
        cell: optNum(e, "cell", `${where}.error`),
        line: optNum(e, "line", `${where}.error`),
        ename: str(e, "ename", `${where}.error`),
        evalue: str(e, "evalue", `${where}.error`),
        fix: optStr(e, "fix", `${where}.error`),
      },
      skip: s && { reason: str(s, "reason", `${where}.skip`), message: str(s, "message", `${where}.skip`) },
      action: optAction(o, where),
    };
  });
  return {
    kernel: { name: str(k, "name", "data.kernel"), displayName: str(k, "display_name", "data.kernel") },
    project: optStr(d, "project", "data"),
    notebooksDir: str(d, "notebooks_dir", "data"),
    outputDir: str(d, "output_dir", "data"),
    notebooks,
    passed: num(d, "passed", "data"),
    failed: num(d, "failed", "data"),
    skipped: num(d, "skipped", "data"),
  };
}

export interface NotebooksData {
  dest: string;
  kernel: { name: string; displayName: string };
  notebooks: { name: string; path: string; state: "written" | "updated" | "unchanged" | "kept" }[];
}

export function notebooksData(env: Envelope): NotebooksData {
  const d = env.data;
  const k = obj(d, "kernel", "data");
  return {
    dest: str(d, "dest", "data"),
    kernel: { name: str(k, "name", "data.kernel"), displayName: str(k, "display_name", "data.kernel") },
    notebooks: objects(d, "notebooks", "data").map(([o, where]) => ({
      name: str(o, "name", where),
      path: str(o, "path", where),
      state: oneOf(o, "state", where, ["written", "updated", "unchanged", "kept"] as const),
    })),
  };
}

export interface DoctorProblem {
  code: string;
  message: string;
  fix: string | null;
  action: Action | null;
}

export interface DoctorData {
  kernels: { name: string; displayName: string; problems: DoctorProblem[] }[];
  problems: number;
}

export function doctorData(env: Envelope): DoctorData {
  const d = env.data;
  return {
    kernels: objects(d, "kernels", "data").map(([k, where]) => ({
      name: str(k, "name", where),
      displayName: str(k, "display_name", where),
      problems: objects(k, "problems", where).map(([p, at]) => ({
        code: str(p, "code", at),
        message: str(p, "message", at),
        fix: optStr(p, "fix", at),
        action: optAction(p, at),
      })),
    })),
    problems: num(d, "problems", "data"),
  };
}

export type AdoptState = "adopted" | "unchanged" | "would-adopt" | "failed";

export interface AdoptData {
  project: string;
  kernel: { name: string; displayName: string; resourceDir: string };
  notebooks: { path: string; state: AdoptState; previous: { name: string | null; displayName: string | null } | null; error: string | null }[];
  dryRun: boolean;
  adopted: number;
  unchanged: number;
  failed: number;
}

export function adoptData(env: Envelope): AdoptData {
  const d = env.data;
  const k = obj(d, "kernel", "data");
  return {
    project: str(d, "project", "data"),
    kernel: {
      name: str(k, "name", "data.kernel"),
      displayName: str(k, "display_name", "data.kernel"),
      resourceDir: str(k, "resource_dir", "data.kernel"),
    },
    notebooks: objects(d, "notebooks", "data").map(([o, where]) => {
      const prev = optObj(o, "previous", where);
      return {
        path: str(o, "path", where),
        state: oneOf(o, "state", where, ["adopted", "unchanged", "would-adopt", "failed"] as const),
        previous: prev && { name: optStr(prev, "name", `${where}.previous`), displayName: optStr(prev, "display_name", `${where}.previous`) },
        error: optStr(o, "error", where),
      };
    }),
    dryRun: bool(d, "dry_run", "data"),
    adopted: num(d, "adopted", "data"),
    unchanged: num(d, "unchanged", "data"),
    failed: num(d, "failed", "data"),
  };
}

/** The view of each command's data, by command name (the envelope tests walk every fixture through it). */
export const VIEWS: Record<string, (env: Envelope) => unknown> = {
  create: createData,
  register: registerData,
  list: listData,
  remove: removeData,
  pythons: pythonsData,
  verify: verifyData,
  notebooks: notebooksData,
  doctor: doctorData,
  adopt: adoptData,
};

/** The kernel of a project folder in a `list` answer (the status bar's kernel). */
export function kernelForProject(data: ListData, projectDir: string): KernelInfo | undefined {
  const norm = (p: string) => p.replace(/[\\/]+$/, "");
  const want = norm(projectDir);
  const mine = data.kernels.filter((k) => k.project !== null && norm(k.project) === want);
  return mine.find((k) => k.status !== "shadowed") ?? mine[0];
}
