import * as vscode from "vscode";
import { COMMANDS, Kernelenv } from "./commands";
import { realFs, realSpawn } from "./spawn";
import { VscodeHost } from "./vscodeApi";

export function activate(context: vscode.ExtensionContext): void {
  const host = new VscodeHost();
  const k = new Kernelenv(host, realSpawn, realFs);
  context.subscriptions.push(host);

  const register = (id: string, fn: (...args: unknown[]) => Promise<void>) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, (...args: unknown[]) => k.guard(() => fn(...args))));

  register(COMMANDS.create, () => k.createProject());
  register(COMMANDS.register, () => k.registerEnvironment());
  register(COMMANDS.show, () => k.showKernels());
  register(COMMANDS.remove, (name) => k.removeKernel(typeof name === "string" ? name : undefined));
  register(COMMANDS.verify, () => k.runNotebooks("verify"));
  register(COMMANDS.tutorials, () => k.runNotebooks("notebooks"));
  register(COMMANDS.showLog, async () => host.log.show());
  register(COMMANDS.refresh, () => k.refreshStatus());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("kernelenv")) {
        void k.refreshStatus();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void k.refreshStatus()),
  );
  void k.refreshStatus();
}

export function deactivate(): void {
  // Children are killed through their progress' cancellation; nothing else to stop.
}
