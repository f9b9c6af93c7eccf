// Where things are and which jobs the server runs (environment knobs in one place).
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ROOT = resolve(WEB, "..");
export const OUT = join(WEB, "test-results");
export const PYTHON = process.env.PERSONA_PYTHON || join(ROOT, ".venv", "bin", "python");
export const PERSONA = process.env.PERSONA_BIN || join(ROOT, ".venv", "bin", "persona");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// real: the worker runs the real engines on tiny random-weight models; fixture: quick stand-ins.
export const JOBS = process.env.PERSONA_E2E_JOBS || "real";
export const JOB_TIMEOUT = JOBS === "real" ? 600_000 : 90_000;
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 900 };
