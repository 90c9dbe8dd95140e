// Show Kernels (with Doctor and Open kernel.json, and Remove last), Remove Kernel.
import * as path from "path";
import { App, BUTTONS } from "../app";
import { CliInvocation, expectOk } from "../cli";
import { PickItem } from "../host";
import { kernelLabel, plural, removeConfirmText, sentence } from "../text";
import { Action, KernelInfo, doctorData, removeData } from "../views";
import { runAction } from "./actions";
import { refreshStatus } from "./status";

export function kernelItems(kernels: KernelInfo[]): PickItem<KernelInfo>[] {
  return kernels.map((k) => ({
    label: kernelLabel(k),
    description: k.status === "ok" ? k.name : `${k.name}: ${k.status}`,
    detail: [k.python ?? "(no interpreter)", ...k.problems].join(" · "),
    value: k,
  }));
}

type KernelAction = "doctor" | "open" | "remove";

/** What can be done with one kernel; the destructive action last, so it is never the default. */
export function kernelActions(kernel: KernelInfo): PickItem<KernelAction>[] {
  return [
    { label: "$(checklist) Check It", description: "start it and look for problems (kernelenv doctor)", value: "doctor" },
    { label: "$(go-to-file) Open kernel.json", description: kernel.resourceDir, value: "open" },
    { label: "$(trash) Remove", description: kernel.owned ? "the kernelspec and the venv kernelenv made" : "the kernelspec", value: "remove" },
  ];
}

export async function showKernels(app: App): Promise<void> {
  const cli = await app.cli();
  const { kernels } = await app.list(cli, false);
  if (kernels.length === 0) {
    await app.host.info("Kernelenv: Jupyter sees no kernels.");
    return;
  }
  const kernel = await app.pick(kernelItems(kernels), "Kernels", "Choose a kernel");
  if (!kernel) {
    return;
  }
  const action = await app.pick(kernelActions(kernel), kernel.displayName, kernel.name);
  if (action === "remove") {
    await removeKernel(app, kernel.name);
  } else if (action === "doctor") {
    await doctor(app, cli, kernel);
  } else if (action === "open") {
    await app.host.openFile(path.join(kernel.resourceDir, "kernel.json"));
  }
}

export async function doctor(app: App, cli: CliInvocation, kernel: KernelInfo): Promise<void> {
  const host = app.host;
  const result = await app.runWithProgress(cli, `Kernelenv: checking ${kernel.displayName}`, "doctor", ["--kernel", kernel.name]);
  if (result.cancelled || (result.exitCode !== 0 && result.envelope.errors.length > 0)) {
    expectOk(result); // cancelled, or the CLI could not check: its sentence
  }
  const data = doctorData(result.envelope);
  const problems = data.kernels.flatMap((k) => k.problems);
  if (problems.length === 0) {
    await host.info(`Kernelenv: kernel ${kernel.displayName} is healthy.`);
    return;
  }
  for (const p of problems) {
    host.log.warn(`doctor ${kernel.name}: [${p.code}] ${p.message}${p.fix ? ` (fix: ${p.fix})` : ""}`);
  }
  const actions = uniqueActions(problems.map((p) => p.action));
  const more = problems.length > 1 ? ` (${plural(problems.length - 1, "more problem")} in the log)` : "";
  const choice = await host.warn(`Kernelenv: ${sentence(problems[0].message)}${more}`, ...actions.map((a) => a.label), BUTTONS.showLog);
  const action = actions.find((a) => a.label === choice);
  if (action) {
    await runAction(app, cli, action);
  } else if (choice === BUTTONS.showLog) {
    host.log.show();
  }
}

export function uniqueActions(actions: (Action | null)[]): Action[] {
  const seen = new Set<string>();
  const out: Action[] = [];
  for (const a of actions) {
    if (a && !seen.has(JSON.stringify(a.argv))) {
      seen.add(JSON.stringify(a.argv));
      out.push(a);
    }
  }
  return out;
}

export async function removeKernel(app: App, name?: string): Promise<void> {
  const host = app.host;
  const cli = await app.cli();
  if (!name) {
    const { kernels } = await app.list(cli, false);
    if (kernels.length === 0) {
      await host.info("Kernelenv: Jupyter sees no kernels.");
      return;
    }
    const entry = await app.pick(kernelItems(kernels), "Remove Kernel", "The kernel to remove");
    if (!entry) {
      return;
    }
    name = entry.name;
  }
  // The CLI says exactly what it would delete.
  const question = removeConfirmText(removeData(expectOk(await app.run(cli, "remove", ["--kernel", name, "--dry-run"]))));
  if (!(await host.confirm(question, "This cannot be undone.", BUTTONS.remove))) {
    return;
  }
  const data = removeData(expectOk(await app.runWithProgress(cli, `Kernelenv: removing ${name}`, "remove", ["--kernel", name])));
  await refreshStatus(app);
  const gone = [data.kernelspecRemoved, data.venvRemoved].filter((p): p is string => !!p);
  void host.info(`Kernelenv: removed kernel '${data.name}' (deleted ${gone.join(" and ") || "nothing"}).`);
}
