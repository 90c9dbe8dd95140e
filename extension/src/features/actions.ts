// A fix the CLI offers as a button (`action: {label, argv}` in verify rows and doctor problems).
import { App } from "../app";
import { CliInvocation, expectOk } from "../cli";
import { sentence } from "../text";
import { Action } from "../views";

/** Run `kernelenv ARGV... --json` with progress; resolves once it succeeded (throws the CLI's sentence otherwise). */
export async function runAction(app: App, cli: CliInvocation, action: Action, cwd?: string): Promise<void> {
  const [verb, ...args] = action.argv;
  app.host.log.info(`running the fix: ${action.label}`);
  expectOk(await app.runWithProgress(cli, `Kernelenv: ${action.label}`, verb, args, cwd));
  void app.host.info(`Kernelenv: done: ${sentence(action.label.toLowerCase())}`);
}
