// Create Project Environment and Register Existing Environment.
import * as path from "path";
import { App, BUTTONS, hasError } from "../app";
import { CliInvocation, expectOk } from "../cli";
import { PickItem } from "../host";
import { pickKernelHint, sentence } from "../text";
import { KernelRef, createData, pythonsData, registerData } from "../views";
import { JUPYTER_EXTENSION_ID, PYTHON_EXTENSION_ID } from "../vscodeRules";
import { refreshStatus } from "./status";

export const PROFILES: PickItem<string>[] = [
  { label: "Minimal", description: "ipykernel only", value: "minimal" },
  { label: "Data", description: "ipykernel, numpy and pandas", value: "data" },
  { label: "Deep Learning", description: "the data packages and TensorFlow", value: "dl" },
];

const TITLE = "Create Project Environment";

/** The interpreters to offer; undefined when there is nothing to choose (one usable Python). */
async function pythonChoices(app: App, cli: CliInvocation, folder: string | undefined): Promise<PickItem<string>[] | undefined> {
  const d = pythonsData(expectOk(await app.run(cli, "pythons", [], { cwd: folder })));
  const usable = d.pythons.filter((p) => p.usable);
  if (usable.length <= 1) {
    return undefined;
  }
  const running = d.running ? usable.find((p) => p.path === d.running) : undefined;
  const def = d.default
    ? { description: d.default.version ? `Python ${d.default.version} (${d.default.path})` : d.default.path, detail: "What kernelenv picks for this project" }
    : {
        description: running?.version ? `Python ${running.version}, the one kernelenv runs on` : "the Python kernelenv runs on",
        detail: `Unless the project's pyproject.toml or kernelenv.toml asks for another${d.running ? ` (${d.running})` : ""}`,
      };
  return [
    { label: "$(star) Default", ...def, value: "" },
    ...usable.map((c) => ({ label: c.label, description: c.path, detail: c.source ?? undefined, value: c.path })),
  ];
}

export async function createProject(app: App): Promise<void> {
  const host = app.host;
  const folders = host.workspaceFolders();
  const configuredProfile = host.setting<string>("defaultProfile", "");
  const cli = await app.cli();
  const pythons = await pythonChoices(app, cli, folders[0]);
  const total = (folders.length > 1 ? 1 : 0) + (pythons ? 1 : 0) + (configuredProfile ? 0 : 1);
  let step = 0;
  const next = (): [number, number] | undefined => (total > 1 ? [++step, total] : undefined);
  const folder = await app.pickFolder(TITLE, folders.length > 1 ? next() : undefined);
  if (!folder) {
    return;
  }
  let python: string | undefined;
  if (pythons) {
    const picked = await app.pick(pythons, TITLE, "Python for the project's venv", next());
    if (picked === undefined) {
      return;
    }
    python = picked || undefined;
  }
  let profile = configuredProfile;
  if (!profile) {
    const picked = await app.pick(PROFILES, TITLE, "What to install into the venv", next());
    if (picked === undefined) {
      return;
    }
    profile = picked;
  }
  const args = [folder];
  if (python) {
    args.push("--python", python);
  }
  if (profile !== "minimal") {
    args.push("--profile", profile);
  }
  args.push(host.setting<string>("scope", "user") === "sys-prefix" ? "--sys-prefix" : "--user");
  const result = await app.runWithProgress(cli, `Kernelenv: creating the environment of ${path.basename(folder)}`, "create", args, folder);
  const data = createData(expectOk(result));
  await refreshStatus(app);
  announce(app, data.kernel, data.venvCreated ? "Created" : "Updated");
}

export async function registerEnvironment(app: App): Promise<void> {
  const host = app.host;
  const title = "Register Existing Environment";
  const kind = await app.pick(
    [
      { label: "$(folder) A Venv Folder", value: "folder" as const },
      { label: "$(file) A Python Interpreter", value: "file" as const },
    ],
    title,
    "What to register",
  );
  if (!kind) {
    return;
  }
  const target = await host.openDialog({
    folders: kind === "folder",
    title: kind === "folder" ? "The Venv Folder to Register" : "The Interpreter to Register",
    openLabel: "Register",
    defaultPath: host.workspaceFolders()[0],
  });
  if (!target) {
    return;
  }
  const cli = await app.cli();
  const progress = `Kernelenv: registering ${path.basename(target)}`;
  let result = await app.runWithProgress(cli, progress, "register", [target]);
  if (result.exitCode !== 0 && hasError(result.envelope, "IPYKERNEL_MISSING")) {
    const choice = await host.warn(
      `Kernelenv: ${path.basename(target)} has no ipykernel, which a Jupyter kernel needs. Install it there?`,
      BUTTONS.installIpykernel,
      BUTTONS.showLog,
    );
    if (choice === BUTTONS.showLog) {
      host.log.show();
    }
    if (choice !== BUTTONS.installIpykernel) {
      return;
    }
    result = await app.runWithProgress(cli, progress, "register", [target, "--install-ipykernel"]);
  }
  const data = registerData(expectOk(result));
  await refreshStatus(app);
  announce(app, data.kernel, "Registered");
}

/** "Created kernel Python 3.11 (demo). In a notebook, pick it with Select Kernel > …" */
export function announce(app: App, kernel: KernelRef, what: string): void {
  const host = app.host;
  const hint = pickKernelHint(kernel.displayName, host.hasExtension(JUPYTER_EXTENSION_ID), host.hasExtension(PYTHON_EXTENSION_ID));
  host.log.info(`${what} kernel ${kernel.name} (${kernel.displayName}) in ${kernel.resourceDir}, Python ${kernel.python}`);
  void host.info(`Kernelenv: ${sentence(`${what} kernel ${kernel.displayName}`)} ${hint}`, BUTTONS.openNotebook, BUTTONS.showLog).then(async (choice) => {
    if (choice === BUTTONS.openNotebook) {
      await host.openNotebook(kernel);
    } else if (choice === BUTTONS.showLog) {
      host.log.show();
    }
  });
}
