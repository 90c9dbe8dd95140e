// What the commands need from the editor. vscodeApi.ts implements it on `vscode`;
// unit tests implement it with recorded answers. No vscode import here.
import { Cancellation, Log } from "./cli";
import { KernelRef } from "./envelope";

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export interface OutputLog extends Log {
  show(): void;
}

export interface ProgressReporter {
  report(message: string, increment?: number): void;
}

export interface OpenDialogOptions {
  folders: boolean;
  title: string;
  openLabel: string;
  defaultPath?: string;
}

export interface StatusBarState {
  text: string;
  tooltip: string;
  command: string;
  warning?: boolean;
}

export interface Host {
  workspaceFolders(): string[];
  /** `kernelenv.<key>` */
  setting<T>(key: string, fallback: T): T;
  processEnv(): NodeJS.ProcessEnv;
  log: OutputLog;
  pick<T>(items: PickItem<T>[], options: { title: string; placeholder: string }): Promise<T | undefined>;
  openDialog(options: OpenDialogOptions): Promise<string | undefined>;
  info(message: string, ...buttons: string[]): Promise<string | undefined>;
  warn(message: string, ...buttons: string[]): Promise<string | undefined>;
  error(message: string, ...buttons: string[]): Promise<string | undefined>;
  /** A modal question; resolves true only when `button` is chosen. */
  confirm(message: string, detail: string, button: string): Promise<boolean>;
  withProgress<R>(title: string, task: (progress: ProgressReporter, token: Cancellation) => Promise<R>): Promise<R>;
  openFile(path: string): Promise<void>;
  openNotebook(kernel: KernelRef): Promise<void>;
  openSettings(query: string): Promise<void>;
  setStatus(state: StatusBarState | undefined): void;
}
