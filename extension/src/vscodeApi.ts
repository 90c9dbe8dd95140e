// The one place that touches `vscode`: a thin Host over the editor's API.
import * as vscode from "vscode";
import type { Jupyter } from "@vscode/jupyter-extension";
import { KernelRef } from "./views";
import { Host, Memento, NotebookInfo, OpenDialogOptions, OutputLog, PickItem, PickOptions, ProgressReporter, StatusBarState } from "./host";
import { Cancellation } from "./cli";
import { JUPYTER_EXTENSION_ID } from "./vscodeRules";

/** metadata.kernelspec.name of an open notebook (the ipynb serializer keeps it in one of two places). */
export function notebookInfo(doc: vscode.NotebookDocument): NotebookInfo {
  const meta = doc.metadata as Record<string, unknown>;
  const inner = (meta?.metadata ?? (meta?.custom as Record<string, unknown> | undefined)?.metadata) as Record<string, unknown> | undefined;
  const ks = inner?.kernelspec as Record<string, unknown> | undefined;
  return { path: doc.uri.fsPath, kernelName: typeof ks?.name === "string" ? ks.name : null, dirty: doc.isDirty };
}

export class VscodeHost implements Host, vscode.Disposable {
  readonly log: OutputLog;
  readonly workspaceState: Memento;
  private readonly channel: vscode.LogOutputChannel;
  private readonly status: vscode.StatusBarItem;

  constructor(context: vscode.ExtensionContext) {
    this.channel = vscode.window.createOutputChannel("Kernelenv", { log: true });
    const c = this.channel;
    this.log = {
      trace: (l) => c.trace(l),
      debug: (l) => c.debug(l),
      info: (l) => c.info(l),
      warn: (l) => c.warn(l),
      error: (l) => c.error(l),
      show: () => c.show(true),
    };
    this.workspaceState = {
      get: <T>(key: string, fallback: T) => context.workspaceState.get<T>(key, fallback),
      update: async (key, value) => {
        await context.workspaceState.update(key, value);
      },
    };
    this.status = vscode.window.createStatusBarItem("kernelenv.status", vscode.StatusBarAlignment.Left, 50);
    this.status.name = "Kernelenv";
  }

  dispose(): void {
    this.status.dispose();
    this.channel.dispose();
  }

  workspaceFolders(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath);
  }

  setting<T>(key: string, fallback: T): T {
    return vscode.workspace.getConfiguration("kernelenv").get<T>(key, fallback);
  }

  processEnv(): NodeJS.ProcessEnv {
    return process.env;
  }

  pick<T>(items: PickItem<T>[], options: PickOptions): Promise<T | undefined> {
    type Item = vscode.QuickPickItem & { value: T };
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = options.title;
    qp.placeholder = options.placeholder;
    qp.step = options.step;
    qp.totalSteps = options.totalSteps;
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.ignoreFocusOut = true;
    qp.items = items.map((i) => ({ label: i.label, description: i.description, detail: i.detail, value: i.value }));
    return new Promise((resolve) => {
      let done = false;
      qp.onDidAccept(() => {
        done = true;
        resolve(qp.selectedItems[0]?.value);
        qp.hide();
      });
      qp.onDidHide(() => {
        if (!done) {
          resolve(undefined);
        }
        qp.dispose();
      });
      qp.show();
    });
  }

  async openDialog(options: OpenDialogOptions): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({
      canSelectFiles: !options.folders,
      canSelectFolders: options.folders,
      canSelectMany: false,
      title: options.title,
      openLabel: options.openLabel,
      defaultUri: options.defaultPath ? vscode.Uri.file(options.defaultPath) : undefined,
    });
    return uris?.[0]?.fsPath;
  }

  info(message: string, ...buttons: string[]): Promise<string | undefined> {
    return Promise.resolve(vscode.window.showInformationMessage(message, ...buttons));
  }

  warn(message: string, ...buttons: string[]): Promise<string | undefined> {
    return Promise.resolve(vscode.window.showWarningMessage(message, ...buttons));
  }

  error(message: string, ...buttons: string[]): Promise<string | undefined> {
    return Promise.resolve(vscode.window.showErrorMessage(message, ...buttons));
  }

  async confirm(message: string, detail: string, button: string): Promise<boolean> {
    const choice = await vscode.window.showWarningMessage(message, { modal: true, detail }, button);
    return choice === button;
  }

  withProgress<R>(title: string, task: (progress: ProgressReporter, token: Cancellation) => Promise<R>): Promise<R> {
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
        task({ report: (message, increment) => progress.report({ message, increment }) }, token),
      ),
    );
  }

  async openFile(p: string): Promise<void> {
    await vscode.window.showTextDocument(vscode.Uri.file(p), { preview: false });
  }

  async openNotebooks(paths: string[], focus: string | undefined): Promise<void> {
    for (const p of paths) {
      const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(p));
      await vscode.window.showNotebookDocument(doc, { preview: false, preserveFocus: p !== focus });
    }
    if (focus && paths.includes(focus)) {
      const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(focus));
      await vscode.window.showNotebookDocument(doc, { preview: false });
    }
  }

  async openNotebook(kernel: KernelRef): Promise<void> {
    const kernelspec = { name: kernel.name, display_name: kernel.displayName, language: "python" };
    const cell = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, "import sys\nprint(sys.executable)", "python");
    const data = new vscode.NotebookData([cell]);
    // The ipynb serializer has read notebook metadata from both places over the versions.
    data.metadata = { metadata: { kernelspec, language_info: { name: "python" } }, custom: { metadata: { kernelspec } } };
    const doc = await vscode.workspace.openNotebookDocument("jupyter-notebook", data);
    await vscode.window.showNotebookDocument(doc);
  }

  async openSettings(query: string): Promise<void> {
    await vscode.commands.executeCommand("workbench.action.openSettings", query);
  }

  setStatus(state: StatusBarState | undefined): void {
    if (!state) {
      this.status.hide();
      return;
    }
    this.status.text = state.text;
    this.status.tooltip = state.tooltip;
    this.status.command = state.args ? { command: state.command, title: state.text, arguments: state.args } : state.command;
    this.status.backgroundColor = state.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.status.show();
  }

  hasExtension(id: string): boolean {
    return vscode.extensions.getExtension(id) !== undefined;
  }

  /** The Jupyter extension's API (types from @vscode/jupyter-extension), activated. */
  async jupyter(): Promise<Jupyter | undefined> {
    const ext = vscode.extensions.getExtension<Jupyter>(JUPYTER_EXTENSION_ID);
    return ext ? ext.activate() : undefined;
  }

  async saveNotebook(p: string): Promise<boolean> {
    const doc = vscode.workspace.notebookDocuments.find((d) => d.uri.fsPath === p);
    return doc ? doc.save() : false;
  }

  async selectKernel(notebookPath: string, controllerId: string, extensionId: string): Promise<boolean> {
    await this.jupyter(); // its controllers exist once it is active
    const editor = vscode.window.visibleNotebookEditors.find((e) => e.notebook.uri.fsPath === notebookPath);
    if (!editor) {
      return false;
    }
    const ok = await vscode.commands.executeCommand<boolean>("notebook.selectKernel", { notebookEditor: editor, id: controllerId, extension: extensionId });
    return ok === true;
  }
}
