// Run Verification Notebooks and Open Tutorial Notebooks: progress per notebook, a one-sentence
// result, the fixes the CLI offers as buttons, and notebooks opened as real tabs.
import * as path from "path";
import { App, BUTTONS } from "../app";
import { expectOk } from "../cli";
import { verifySummary } from "../text";
import { VerifyData, VerifyRow, notebooksData, verifyData } from "../views";
import { uniqueActions } from "./kernels";
import { runAction } from "./actions";

const MAX_OPENED = 10;

/** Which notebook to show first: the first failure, else 00-environment, else the first. */
export function focusOf(paths: { name: string; path: string; failed?: boolean }[]): string | undefined {
  return (paths.find((p) => p.failed) ?? paths.find((p) => p.name.startsWith("00-")) ?? paths[0])?.path;
}

/** The executed copies verify wrote: never the sources (the tutorial ones live inside the installed package). */
export function executedCopies(d: VerifyData): { name: string; path: string; failed: boolean }[] {
  return d.notebooks
    .filter((r): r is VerifyRow & { output: string } => r.output !== null && r.output.endsWith(".ipynb"))
    .map((r) => ({ name: r.name, path: r.output, failed: r.status === "failed" }));
}

export async function runVerification(app: App): Promise<void> {
  const host = app.host;
  const folder = await app.pickFolder("Run Verification Notebooks");
  if (!folder) {
    return;
  }
  const cli = await app.cli();
  const result = await app.runWithProgress(cli, "Kernelenv: running the verification notebooks", "verify", [folder], folder);
  if (result.cancelled || result.envelope.errors.length > 0) {
    expectOk(result); // cancelled, or verify could not run (no kernel...): the CLI's sentence
  }
  const d = verifyData(result.envelope);
  for (const r of d.notebooks) {
    const why = r.error ? `: ${r.error.ename}: ${r.error.evalue}${r.error.fix ? ` (fix: ${r.error.fix})` : ""}` : r.skip ? `: ${r.skip.message}` : "";
    (r.status === "failed" ? (l: string) => host.log.warn(l) : (l: string) => host.log.info(l))(
      `${r.status.toUpperCase()} ${r.name}${r.output ? `  ${r.output}` : ""}${why}`,
    );
  }
  const copies = executedCopies(d);
  const actions = uniqueActions(d.notebooks.filter((r) => r.status !== "passed").map((r) => r.action));
  const buttons = [...actions.map((a) => a.label), ...(copies.length ? [BUTTONS.openNotebooks] : []), BUTTONS.showLog];
  const text = `Kernelenv: ${verifySummary(d)}`;
  const choice = await (d.failed > 0 ? host.warn(text, ...buttons) : host.info(text, ...buttons));
  const action = actions.find((a) => a.label === choice);
  if (action) {
    await runAction(app, cli, action, folder);
    if ((await host.info("Kernelenv: run the verification notebooks again?", BUTTONS.runAgain)) === BUTTONS.runAgain) {
      await runVerification(app);
    }
  } else if (choice === BUTTONS.openNotebooks) {
    await host.openNotebooks(copies.slice(0, MAX_OPENED).map((c) => c.path), focusOf(copies));
  } else if (choice === BUTTONS.showLog) {
    host.log.show();
  }
}

export async function openTutorials(app: App): Promise<void> {
  const host = app.host;
  const folder = await app.pickFolder("Open Tutorial Notebooks");
  if (!folder) {
    return;
  }
  const cli = await app.cli();
  const d = notebooksData(expectOk(await app.runWithProgress(cli, "Kernelenv: copying the tutorial notebooks", "notebooks", [folder], folder)));
  for (const n of d.notebooks) {
    host.log.info(`${n.state} ${n.path}`);
  }
  const files = d.notebooks.map((n) => ({ name: n.name, path: n.path })).filter((n) => n.path.endsWith(".ipynb"));
  await host.openNotebooks(files.slice(0, MAX_OPENED).map((f) => f.path), focusOf(files));
  const kept = d.notebooks.filter((n) => n.state === "kept").length;
  const note = kept ? ` ${kept} you changed were kept as they are.` : "";
  void host.info(`Kernelenv: ${files.length} tutorial notebooks in ${path.relative(folder, d.dest) || d.dest}, set to ${d.kernel.displayName}.${note}`);
}
