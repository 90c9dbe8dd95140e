// How the VS Code Jupyter extension (ms-toolsai.jupyter, v2025.9.1) names a kernelspec and the
// notebook controller it makes for it: the same rules as kernelenv/vscode.py (which cites the
// extension's source files), checked against the same cases (tests/fixtures/vscode/ids.json).
// Pure: the caller reads kernel.json.

export const JUPYTER_EXTENSION_ID = "ms-toolsai.jupyter";
export const PYTHON_EXTENSION_ID = "ms-python.python";

const DEFAULT_DISPLAY = /python\s[0-9]*.?[0-9]*$/;
const LAUNCHER_ARGS = new Set(["-m", "ipykernel", "ipykernel_launcher", "-f", "{connection_file}"]);
const ID_IGNORED_ARGS = new Set(["-f", "{connection_file}"]);

export interface KernelJson {
  argv: string[];
  display_name: string;
  language?: unknown;
  name?: unknown;
  metadata?: unknown;
}

/** kernel.json as the extension can load it, or undefined (it skips such a spec). */
export function asKernelJson(raw: unknown): KernelJson | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return undefined;
  }
  const o = raw as Record<string, unknown>;
  const argv = o.argv;
  if (typeof o.display_name !== "string" || !Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    return undefined;
  }
  return o as unknown as KernelJson;
}

function extraArgs(spec: KernelJson): string[] {
  return spec.argv.slice(1).map((a) => a.toLowerCase()).filter((a) => !LAUNCHER_ARGS.has(a));
}

/** The name the extension gives the spec in folder `folder` (what notebooks are matched by). */
export function specId(folder: string, spec: KernelJson): unknown {
  let name: unknown = "name" in spec ? spec.name : undefined;
  const renamed =
    !DEFAULT_DISPLAY.test(spec.display_name.toLowerCase()) && spec.language === "python" && spec.argv.length > 2 && extraArgs(spec).length > 0;
  if (renamed) {
    name = `${String(name)}.${extraArgs(spec).join("#")}`;
  }
  return name || folder;
}

function interpreterPath(spec: KernelJson): string | undefined {
  const meta = spec.metadata;
  if (typeof meta !== "object" || meta === null) {
    return undefined;
  }
  const interp = (meta as Record<string, unknown>).interpreter;
  const p = typeof interp === "object" && interp !== null ? (interp as Record<string, unknown>).path : undefined;
  return typeof p === "string" && p ? p : undefined;
}

function normalized(p: string): string {
  return p.endsWith("/bin/python") && p.split("/").length > 4 ? p.replace("/bin/python", "/python") : p;
}

/**
 * The id of the notebook controller for a local kernelspec named `name`; `interpreter` is the
 * Python environment the Python extension matched to it (its executable), undefined without it.
 * `notebook.selectKernel` takes it as `{ id, extension: "ms-toolsai.jupyter" }`.
 */
export function controllerId(name: unknown, spec: KernelJson, interpreter?: string): string {
  const exe = interpreterPath(spec) ?? spec.argv[0];
  const python = typeof spec.language === "string" && spec.language.toLowerCase() === "python";
  const args = python
    ? spec.argv.slice(1).filter((a) => !ID_IGNORED_ARGS.has(a)).join("#").toLowerCase()
    : spec.argv.join("#").toLowerCase();
  const interp = python && interpreter ? normalized(interpreter) : "";
  return `.${String(name)}.${normalized(exe)}.${interp}.${args}`;
}
