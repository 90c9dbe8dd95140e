import * as vscode from "vscode";
import { App, COMMANDS } from "./app";
import { Adopter } from "./features/adopt";
import { createProject, registerEnvironment } from "./features/create";
import { removeKernel, showKernels } from "./features/kernels";
import { openTutorials, runVerification } from "./features/notebooks";
import { refreshStatus } from "./features/status";
import { realFs, realSpawn } from "./spawn";
import { VscodeHost, notebookInfo } from "./vscodeApi";

export function activate(context: vscode.ExtensionContext): void {
  const host = new VscodeHost(context);
  const app = new App(host, realSpawn, realFs);
  const adopter = new Adopter(app);
  context.subscriptions.push(host);

  const register = (id: string, fn: (...args: unknown[]) => Promise<void>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => app.guard(() => fn(...args))));

  register(COMMANDS.create, () => createProject(app));
  register(COMMANDS.register, () => registerEnvironment(app));
  register(COMMANDS.show, () => showKernels(app));
  register(COMMANDS.remove, (name) => removeKernel(app, typeof name === "string" ? name : undefined));
  register(COMMANDS.verify, () => runVerification(app));
  register(COMMANDS.tutorials, () => openTutorials(app));
  register(COMMANDS.showLog, () => Promise.resolve(host.log.show()));
  register(COMMANDS.refresh, () => refreshStatus(app));

  const onNotebook = (doc: vscode.NotebookDocument) => {
    if (doc.notebookType === "jupyter-notebook" && doc.uri.scheme === "file") {
      void adopter.onNotebookOpened(notebookInfo(doc));
    }
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("kernelenv")) {
        void refreshStatus(app);
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void refreshStatus(app)),
    vscode.workspace.onDidOpenNotebookDocument(onNotebook),
  );
  void refreshStatus(app).then(() => vscode.workspace.notebookDocuments.forEach(onNotebook));
}

export function deactivate(): void {
  // Children are killed through their progress' cancellation; nothing else to stop.
}
