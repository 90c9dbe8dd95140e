// The JSON envelope contract of `kernelenv VERB --json` (see tests/fixtures/envelopes/README.md):
// parsing stdout into one envelope, stderr lines into progress events, and the checks the
// typed views (views.ts) are built from. Pure functions only: unit tests run them on the same
// fixture envelopes the Python tests check.

export const ENVELOPE_VERSION = 1;

export interface CliErrorInfo {
  code: string;
  message: string;
  hint: string | null;
  details: Record<string, unknown>;
}

export interface Envelope<D = Record<string, unknown>> {
  kernelenv: number;
  command: string;
  status: "ok" | "error";
  data: D;
  errors: CliErrorInfo[];
}

export interface ProgressEvent {
  stage: string;
  message: string;
  current?: number;
  total?: number;
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvelopeError";
  }
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function need(ok: boolean, what: string, value?: unknown): asserts ok {
  if (!ok) {
    throw new EnvelopeError(`unexpected kernelenv output: ${what}` + (value === undefined ? "" : ` (got ${JSON.stringify(value)})`));
  }
}

/** Parse and validate stdout of a `--json` run. Throws EnvelopeError when it is not one envelope. */
export function parseEnvelope(stdout: string, expectedCommand?: string): Envelope {
  const text = stdout.trim();
  need(text.length > 0, "stdout is empty, no JSON envelope");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new EnvelopeError(`unexpected kernelenv output: stdout is not one JSON object (${(e as Error).message})`);
  }
  need(isObject(raw), "the envelope is not a JSON object");
  const env = raw;
  need(typeof env.kernelenv === "number", "no 'kernelenv' version number", env.kernelenv);
  need(env.kernelenv === ENVELOPE_VERSION, `envelope version ${String(env.kernelenv)} is not ${ENVELOPE_VERSION}; update the extension or kernelenv`);
  need(typeof env.command === "string", "no 'command'", env.command);
  if (expectedCommand !== undefined) {
    need(env.command === expectedCommand, `answer is for '${String(env.command)}', not '${expectedCommand}'`);
  }
  need(env.status === "ok" || env.status === "error", "'status' is neither ok nor error", env.status);
  need(isObject(env.data), "'data' is not an object", env.data);
  need(Array.isArray(env.errors), "'errors' is not a list", env.errors);
  const errors = (env.errors as unknown[]).map((e, i) => {
    need(isObject(e), `errors[${i}] is not an object`, e);
    need(typeof e.code === "string" && e.code.length > 0, `errors[${i}].code is not a string`, e.code);
    need(typeof e.message === "string", `errors[${i}].message is not a string`, e.message);
    need(e.hint === undefined || e.hint === null || typeof e.hint === "string", `errors[${i}].hint is not a string or null`, e.hint);
    need(e.details === undefined || isObject(e.details), `errors[${i}].details is not an object`, e.details);
    return {
      code: e.code,
      message: e.message,
      hint: (e.hint) ?? null,
      details: (e.details) ?? {},
    };
  });
  return {
    kernelenv: env.kernelenv,
    command: env.command,
    status: env.status,
    data: env.data,
    errors,
  };
}

/** One stderr line of a --json run: a progress event, or plain log text (returns undefined). */
export function parseProgressLine(line: string): ProgressEvent | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) {
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!isObject(raw) || !isObject(raw.progress)) {
    return undefined;
  }
  const p = raw.progress;
  if (typeof p.stage !== "string") {
    return undefined;
  }
  const ev: ProgressEvent = { stage: p.stage, message: typeof p.message === "string" ? p.message : p.stage };
  if (typeof p.current === "number") {
    ev.current = p.current;
  }
  if (typeof p.total === "number" && p.total > 0) {
    ev.total = p.total;
  }
  return ev;
}

/** What a stage that takes a while is doing, for a user watching the progress notification. */
export const STAGE_DETAIL: Record<string, string> = {
  profile: "looking up the profile's packages on the package index, which can take a minute",
};

export function formatProgress(ev: ProgressEvent): string {
  const count = ev.current !== undefined && ev.total !== undefined ? ` (${ev.current}/${ev.total})` : "";
  const detail = STAGE_DETAIL[ev.stage] ? ` (${STAGE_DETAIL[ev.stage]})` : "";
  return `${ev.message}${detail}${count}`;
}

// ---- field checks the views are built from. A missing or mistyped field is a contract break. ----

export function str(o: Json, key: string, where: string): string {
  need(typeof o[key] === "string", `${where}.${key} is not a string`, o[key]);
  return o[key];
}

/** A key the contract always has, whose value may be null. */
export function optStr(o: Json, key: string, where: string): string | null {
  need(key in o, `${where}.${key} is missing`);
  need(o[key] === null || typeof o[key] === "string", `${where}.${key} is not a string or null`, o[key]);
  return o[key];
}

export function num(o: Json, key: string, where: string): number {
  need(typeof o[key] === "number", `${where}.${key} is not a number`, o[key]);
  return o[key];
}

export function optNum(o: Json, key: string, where: string): number | null {
  need(key in o, `${where}.${key} is missing`);
  need(o[key] === null || typeof o[key] === "number", `${where}.${key} is not a number or null`, o[key]);
  return o[key];
}

export function obj(o: Json, key: string, where: string): Json {
  need(isObject(o[key]), `${where}.${key} is not an object`, o[key]);
  return o[key];
}

export function optObj(o: Json, key: string, where: string): Json | null {
  need(key in o, `${where}.${key} is missing`);
  need(o[key] === null || isObject(o[key]), `${where}.${key} is not an object or null`, o[key]);
  return o[key];
}

/** A key the contract marks optional (it may be absent): an object, or null. */
export function maybeObj(o: Json, key: string, where: string): Json | null {
  need(o[key] === undefined || o[key] === null || isObject(o[key]), `${where}.${key} is not an object or null`, o[key]);
  return (o[key]) ?? null;
}

export function bool(o: Json, key: string, where: string): boolean {
  need(typeof o[key] === "boolean", `${where}.${key} is not a boolean`, o[key]);
  return o[key];
}

export function list(o: Json, key: string, where: string): unknown[] {
  need(Array.isArray(o[key]), `${where}.${key} is not a list`, o[key]);
  return o[key] as unknown[];
}

/** Each item of a list, checked to be an object, with its place for messages. */
export function objects(o: Json, key: string, where: string): [Json, string][] {
  return list(o, key, where).map((item, i) => {
    const at = `${where}.${key}[${i}]`;
    need(isObject(item), `${at} is not an object`, item);
    return [item, at];
  });
}

export function oneOf<T extends string>(o: Json, key: string, where: string, values: readonly T[]): T {
  const v = str(o, key, where);
  need((values as readonly string[]).includes(v), `${where}.${key} is not one of ${values.join(", ")}`, v);
  return v as T;
}

export function strings(o: Json, key: string, where: string): string[] {
  const items = list(o, key, where);
  items.forEach((v, i) => need(typeof v === "string", `${where}.${key}[${i}] is not a string`, v));
  return items as string[];
}
