// The status bar item: the workspace project's kernel and its health. Never pops up errors;
// its `list` runs quietly (the log gets it at trace level only).
import { App, COMMANDS, EXTENSION_ID } from "../app";
import { CliInvocation, CliNotFoundError, NotKernelenvError } from "../cli";
import { statusIcon } from "../text";
import { kernelForProject } from "../views";

export async function refreshStatus(app: App): Promise<void> {
  const host = app.host;
  const folders = host.workspaceFolders();
  if (folders.length === 0) {
    host.setStatus(undefined);
    return;
  }
  let cli: CliInvocation;
  try {
    cli = await app.cli();
  } catch (e) {
    host.log.warn(`status: ${(e as Error).message}`);
    host.setStatus({
      text: "$(warning) kernelenv",
      tooltip: `Kernelenv: ${(e as Error).message}. Click to configure.`,
      command: "workbench.action.openSettings",
      args: [`@ext:${EXTENSION_ID}`],
      warning: true,
    });
    return;
  }
  let list;
  try {
    list = await app.list(cli);
  } catch (e) {
    const notFound = e instanceof NotKernelenvError || e instanceof CliNotFoundError;
    host.log.warn(`status: ${(e as Error).message}`);
    host.setStatus({
      text: "$(warning) kernelenv",
      tooltip: notFound ? `Kernelenv: ${(e).message}. Click to configure.` : `Kernelenv: ${(e as Error).message}`,
      command: notFound ? "workbench.action.openSettings" : COMMANDS.showLog,
      args: notFound ? [`@ext:${EXTENSION_ID}`] : undefined,
      warning: true,
    });
    return;
  }
  for (const folder of folders) {
    const k = kernelForProject(list, folder);
    if (k) {
      host.setStatus({
        text: `${statusIcon(k.status)} ${k.name}`,
        tooltip: `Kernelenv: kernel ${k.displayName} for ${folder}\n${k.python ?? ""}\nstatus: ${k.status}${k.problems.length ? "\n" + k.problems.join("\n") : ""}`,
        command: COMMANDS.show,
        warning: k.status !== "ok",
      });
      return;
    }
  }
  host.setStatus({ text: "$(add) kernelenv", tooltip: "Kernelenv: this project has no kernel yet. Click to create one.", command: COMMANDS.create });
}
