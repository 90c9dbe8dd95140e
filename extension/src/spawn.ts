// Thin wrapper of child_process so unit tests can hand in a fake process.
import * as child_process from "child_process";
import * as fs from "fs";

export interface ChildLike {
  readonly pid?: number;
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  on(event: "close", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  kill(signal?: NodeJS.Signals): boolean;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Spawn argv[0] with argv[1..]: an array, never a shell string. */
export type SpawnFn = (file: string, args: readonly string[], options: SpawnOptions) => ChildLike;

export const realSpawn: SpawnFn = (file, args, options) =>
  child_process.spawn(file, [...args], {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    stdio: ["ignore", "pipe", "pipe"],
    windowsHide: true,
  });

/** File-system questions the extension asks; a wrapper so tests can answer them. */
export interface FsLike {
  isExecutableFile(path: string): boolean;
  /** A file's text, undefined when it cannot be read. */
  readText(path: string): string | undefined;
}

export const realFs: FsLike = {
  isExecutableFile(p: string): boolean {
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) {
        return false;
      }
      if (process.platform === "win32") {
        return true;
      }
      fs.accessSync(p, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  readText(p: string): string | undefined {
    try {
      return fs.readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  },
};
