// "Use Python 3.11 (proj) for this notebook?": a notebook inside a kernelenv project that names
// another kernel (or none). Yes sets its kernelspec metadata with `kernelenv adopt` and selects the
// kernel in the editor through the Jupyter extension; "Don't Ask Again" holds per workspace.
import * as path from "path";
import { App, BUTTONS } from "../app";
import { expectOk } from "../cli";
import { NotebookInfo } from "../host";
import { pickKernelHint, sentence } from "../text";
import { KernelInfo, adoptData, kernelForProject } from "../views";
import { JUPYTER_EXTENSION_ID, PYTHON_EXTENSION_ID, asKernelJson, controllerId, specId } from "../vscodeRules";

/** workspaceState key: true once the user chose "Don't Ask Again" in this workspace. */
export const DONT_ASK_KEY = "kernelenv.adopt.dontAsk";

export class Adopter {
  /** Notebooks asked about in this window (Not Now, or escaped): not asked again until reload. */
  private readonly asked = new Set<string>();

  constructor(private readonly app: App) {}

  /** The project kernel a notebook at this path should use, when it is not already its kernel. */
  async candidate(nb: NotebookInfo): Promise<{ folder: string; kernel: KernelInfo } | undefined> {
    const app = this.app;
    const folder = app.folderFor(nb.path);
    if (!folder || !nb.path.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep)) {
      return undefined; // not inside a workspace folder
    }
    const list = app.lastList ?? (await app.list(await app.cli()));
    const kernel = kernelForProject(list, folder);
    if (!kernel || kernel.status !== "ok" || nb.kernelName === kernel.name) {
      return undefined;
    }
    return { folder, kernel };
  }

  /** Called for every notebook the editor opens. Never throws: a failure goes to the log. */
  async onNotebookOpened(nb: NotebookInfo): Promise<void> {
    const host = this.app.host;
    if (this.asked.has(nb.path) || host.workspaceState.get<boolean>(DONT_ASK_KEY, false)) {
      return;
    }
    let found;
    try {
      found = await this.candidate(nb);
    } catch (e) {
      host.log.debug(`adopt: not asking about ${nb.path}: ${(e as Error).message}`);
      return;
    }
    if (!found || this.asked.has(nb.path)) {
      return;
    }
    this.asked.add(nb.path);
    const { folder, kernel } = found;
    const now = nb.kernelName ? ` It now names the kernel '${nb.kernelName}'.` : " It names no kernel.";
    const choice = await host.info(
      `Use ${kernel.displayName} for this notebook? It is the kernel of ${path.basename(folder)}.${now}`,
      BUTTONS.useKernel,
      BUTTONS.notNow,
      BUTTONS.dontAsk,
    );
    if (choice === BUTTONS.dontAsk) {
      await host.workspaceState.update(DONT_ASK_KEY, true);
      host.log.info("adopt: not asking again in this workspace");
      return;
    }
    if (choice !== BUTTONS.useKernel) {
      return;
    }
    await this.app.guard(() => this.adopt(nb, folder, kernel));
  }

  async adopt(nb: NotebookInfo, folder: string, kernel: KernelInfo): Promise<void> {
    const app = this.app;
    const host = app.host;
    if (nb.dirty && !(await host.saveNotebook(nb.path))) {
      await host.warn(`Kernelenv: save ${path.basename(nb.path)} first; its kernel was not changed.`);
      return;
    }
    const cli = await app.cli();
    const d = adoptData(expectOk(await app.run(cli, "adopt", [nb.path, "--project", folder, "--kernel", kernel.name], { cwd: folder })));
    const row = d.notebooks.find((n) => n.path === nb.path) ?? d.notebooks[0];
    if (!row || row.state === "failed") {
      throw new Error(sentence(`could not set the kernel of ${path.basename(nb.path)}: ${row?.error ?? "kernelenv adopt changed nothing"}`));
    }
    host.log.info(`adopt: ${nb.path} ${row.state}, kernel ${d.kernel.name}`);
    const jupyter = host.hasExtension(JUPYTER_EXTENSION_ID);
    const selected = jupyter && (await this.select(nb.path, d.kernel.resourceDir, kernel));
    if (!selected) {
      void host.info(
        `Kernelenv: ${path.basename(nb.path)} now names ${d.kernel.displayName}. ${pickKernelHint(
          d.kernel.displayName,
          jupyter,
          host.hasExtension(PYTHON_EXTENSION_ID),
        )}`,
      );
    }
  }

  /** `notebook.selectKernel` with the id of the controller the Jupyter extension made for the spec. */
  private async select(notebookPath: string, resourceDir: string, kernel: KernelInfo): Promise<boolean> {
    const host = this.app.host;
    const text = this.app.fs.readText(path.join(resourceDir, "kernel.json"));
    let spec;
    try {
      spec = text === undefined ? undefined : asKernelJson(JSON.parse(text));
    } catch {
      spec = undefined;
    }
    if (!spec) {
      host.log.warn(`adopt: cannot read ${resourceDir}/kernel.json to select it`);
      return false;
    }
    // With the Python extension, the extension matches the venv's interpreter (argv[0]) to the spec.
    const interpreter = host.hasExtension(PYTHON_EXTENSION_ID) ? (kernel.python ?? spec.argv[0]) : undefined;
    const id = controllerId(specId(path.basename(resourceDir), spec), spec, interpreter);
    host.log.debug(`adopt: notebook.selectKernel ${JUPYTER_EXTENSION_ID} ${id}`);
    try {
      return await host.selectKernel(notebookPath, id, JUPYTER_EXTENSION_ID);
    } catch (e) {
      host.log.warn(`adopt: selecting the kernel failed: ${(e as Error).message}`);
      return false;
    }
  }
}
