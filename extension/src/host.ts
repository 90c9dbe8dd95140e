// What the commands need from the editor. vscodeApi.ts implements it on `vscode`;
// unit tests implement it with recorded answers. No vscode import here.
import { Cancellation } from "./cli";
import { KernelRef } from "./views";

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export interface PickOptions {
  /** Title case, without the "Kernelenv:" prefix the palette shows. */
  title: string;
  placeholder: string;
  /** "1/2" in the title bar, as VS Code's own multi-step pickers have. */
  step?: number;
  totalSteps?: number;
}

/** Levels of VS Code's LogOutputChannel; each line gets a timestamp and level there. */
export interface Log {
  trace(line: string): void;
  debug(line: string): void;
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
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
  /** arguments of `command` */
  args?: unknown[];
  warning?: boolean;
}

/** A notebook the editor has open. */
export interface NotebookInfo {
  path: string;
  /** metadata.kernelspec.name, null when the notebook names no kernel */
  kernelName: string | null;
  dirty: boolean;
}

/** Workspace-scoped storage (VS Code's workspaceState). */
export interface Memento {
  get<T>(key: string, fallback: T): T;
  update(key: string, value: unknown): Promise<void>;
}

export interface Host {
  workspaceFolders(): string[];
  /** `kernelenv.<key>` */
  setting<T>(key: string, fallback: T): T;
  processEnv(): NodeJS.ProcessEnv;
  log: OutputLog;
  workspaceState: Memento;
  pick<T>(items: PickItem<T>[], options: PickOptions): Promise<T | undefined>;
  openDialog(options: OpenDialogOptions): Promise<string | undefined>;
  info(message: string, ...buttons: string[]): Promise<string | undefined>;
  warn(message: string, ...buttons: string[]): Promise<string | undefined>;
  error(message: string, ...buttons: string[]): Promise<string | undefined>;
  /** A modal question; resolves true only when `button` is chosen. */
  confirm(message: string, detail: string, button: string): Promise<boolean>;
  withProgress<R>(title: string, task: (progress: ProgressReporter, token: Cancellation) => Promise<R>): Promise<R>;
  /** A text file in an editor (kernel.json). */
  openFile(path: string): Promise<void>;
  /** Notebooks as real tabs (never preview tabs that replace each other); `focus` ends up active. */
  openNotebooks(paths: string[], focus: string | undefined): Promise<void>;
  /** A new untitled notebook set to this kernel. */
  openNotebook(kernel: KernelRef): Promise<void>;
  /** Settings, filtered by `query` (e.g. "@ext:kernelenv.kernelenv"). */
  openSettings(query: string): Promise<void>;
  setStatus(state: StatusBarState | undefined): void;
  /** Whether the extension with this id is installed (e.g. "ms-toolsai.jupyter"). */
  hasExtension(id: string): boolean;
  /** Save an open notebook; false when it is not open or could not be saved. */
  saveNotebook(path: string): Promise<boolean>;
  /** `notebook.selectKernel` for the editor showing this notebook; false when not shown or not selected. */
  selectKernel(notebookPath: string, controllerId: string, extensionId: string): Promise<boolean>;
}
