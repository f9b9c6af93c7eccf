// The tiny test runner every journey uses: `test(name, fn, {needs})`, `assert`, and the tally.
// One line per test ("ok - …" / "not ok - …"); a test whose `needs` did not pass is skipped
// (counted as failed); PERSONA_E2E_GREP=regex runs only the tests whose name matches.
import { checkAccessibility } from "./axe.mjs";
import { checkWords } from "./words.mjs";

const results = [];
const GREP = process.env.PERSONA_E2E_GREP ? new RegExp(process.env.PERSONA_E2E_GREP) : null;

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether a test of this name runs at all under PERSONA_E2E_GREP. */
export const selected = (name) => !GREP || GREP.test(name);

/**
 * Runs one test against `ctx` (see run.mjs): `ctx.before()` brings up its server the first time
 * a test of the journey is selected; page errors, axe-core's critical or serious findings and
 * untranslated server words (words.mjs) on the page the test ends on fail it (`axe: false` for a
 * test that ends away from the app).
 */
export async function test(ctx, name, fn, { needs = [], axe = true } = {}) {
  if (!selected(name)) return;
  const missing = needs.filter((n) => !results.find((r) => r.name === n && r.ok));
  if (missing.length) {
    results.push({ name, ok: false, skipped: true });
    console.log(`not ok - ${name} (skipped: needs ${missing.join(", ")})`);
    return;
  }
  const started = Date.now();
  try {
    await ctx.before();
    ctx.pageErrors.length = 0;
    await fn();
    if (ctx.pageErrors.length) throw new Error(`errors in the page: ${ctx.pageErrors.join(" | ")}`);
    if (axe) await checkAccessibility(ctx.page, name);
    await checkWords(ctx.page, name);
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}\n    ${String(error && error.stack ? error.stack : error).split("\n").slice(0, 6).join("\n    ")}`);
    await ctx.shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => {});
  }
}

/** Prints the closing "N passed, N failed" line and gives the exit status. */
export function summary(fatal) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed + (fatal ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
