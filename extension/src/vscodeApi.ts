// The one place that touches `vscode`: a thin Host over the editor's API.
import * as vscode from "vscode";
import { KernelRef } from "./envelope";
import { Host, OpenDialogOptions, OutputLog, PickItem, ProgressReporter, StatusBarState } from "./host";
import { Cancellation } from "./cli";

export class VscodeHost implements Host, vscode.Disposable {
  readonly log: OutputLog;
  private readonly channel: vscode.OutputChannel;
  private readonly status: vscode.StatusBarItem;

  constructor() {
    this.channel = vscode.window.createOutputChannel("Kernelenv");
    this.log = {
      append: (line: string) => this.channel.appendLine(line),
      show: () => this.channel.show(true),
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

  async pick<T>(items: PickItem<T>[], options: { title: string; placeholder: string }): Promise<T | undefined> {
    const picked = await vscode.window.showQuickPick(
      items.map((i) => ({ label: i.label, description: i.description, detail: i.detail, value: i.value })),
      { title: options.title, placeHolder: options.placeholder, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true },
    );
    return picked?.value;
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
    await vscode.commands.executeCommand("vscode.open", vscode.Uri.file(p));
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
    this.status.command = state.command;
    this.status.backgroundColor = state.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.status.show();
  }
}
