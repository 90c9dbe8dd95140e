// What people read in notifications: sentences, no CLI flags or error codes (those go to the log).
import { CliErrorInfo, Envelope } from "./envelope";
import { KernelInfo, RemoveData, VerifyData, VerifyRow } from "./views";

/** The CLI's own sentence for a failed run (its first error's message), for a notification. */
export function errorSentence(env: Envelope): string {
  if (env.errors.length === 0) {
    // status "error" with no error: the verb ran and found problems (doctor, verify)
    return `kernelenv ${env.command} found problems; the log has the details.`;
  }
  const first = sentence(env.errors[0].message);
  return env.errors.length > 1 ? `${first} (and ${env.errors.length - 1} more problem(s) in the log)` : first;
}

/** One log line per error: its stable code, message and the CLI's hint (which may name flags). */
export function errorLogLines(verb: string, errors: CliErrorInfo[]): string[] {
  return errors.map((e) => `${verb}: [${e.code}] ${e.message}${e.hint ? ` (hint: ${e.hint})` : ""}`);
}

/** Capitalised and ending in a full stop. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) {
    return t;
  }
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export const STATUS_ICONS: Record<string, string> = {
  ok: "$(pass)",
  "interpreter-missing": "$(error)",
  "ipykernel-missing": "$(warning)",
  "invalid-spec": "$(error)",
  shadowed: "$(eye-closed)",
  "venv-broken": "$(error)",
};

export function statusIcon(status: string): string {
  return STATUS_ICONS[status] ?? "$(question)";
}

/** The confirmation text of Remove Kernel, from a `remove --dry-run` answer. */
export function removeConfirmText(r: RemoveData): string {
  const parts: string[] = [];
  if (r.kernelspecRemoved) {
    parts.push(`the kernelspec ${r.kernelspecRemoved}`);
  }
  if (r.venvRemoved) {
    parts.push(`the venv ${r.venvRemoved} (kernelenv made it)`);
  }
  let text = `Remove kernel '${r.name}'? This deletes ${parts.length ? parts.join(" and ") : "nothing"}.`;
  if (!r.venvRemoved) {
    text += r.venvKeptReason ? ` The venv is kept: ${r.venvKeptReason}.` : " No venv is deleted.";
  }
  return text;
}

/** Where a notebook user finds the kernel, in the words VS Code shows. */
export function pickKernelHint(displayName: string, jupyterInstalled: boolean, pythonInstalled: boolean): string {
  const path = `Select Kernel > Jupyter Kernel… > ${displayName}`;
  if (!jupyterInstalled) {
    return `To run notebooks in VS Code, install the Jupyter extension; then pick it with ${path}.`;
  }
  return pythonInstalled
    ? `In a notebook, pick it with ${path} (or under Python Environments, as its venv).`
    : `In a notebook, pick it with ${path}.`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function kernelLabel(k: KernelInfo): string {
  return `${statusIcon(k.status)} ${k.displayName}`;
}

function names(rows: VerifyRow[]): string {
  const n = rows.map((r) => r.name);
  return n.length <= 2 ? n.join(" and ") : `${n.slice(0, -1).join(", ")} and ${n[n.length - 1]}`;
}

/** The one-sentence result of Run Verification Notebooks. */
export function verifySummary(d: VerifyData): string {
  const failed = d.notebooks.filter((r) => r.status === "failed");
  const skipped = d.notebooks.filter((r) => r.status === "skipped");
  const parts: string[] = [];
  if (failed.length) {
    const first = failed[0];
    const why = first.error ? ` (${first.error.ename}: ${first.error.evalue})` : "";
    parts.push(`${plural(failed.length, "notebook")} failed: ${names(failed)}${failed.length === 1 ? why : ""}`);
  }
  parts.push(`${plural(d.notebooks.filter((r) => r.status === "passed").length, "notebook")} passed`);
  if (skipped.length) {
    const reasons = [...new Set(skipped.map((r) => r.skip?.message).filter((m): m is string => !!m))];
    parts.push(`${plural(skipped.length, "skipped", "skipped")} (${names(skipped)})${reasons.length ? `: ${reasons.join("; ")}` : ""}`);
  }
  return sentence(parts.join("; "));
}
