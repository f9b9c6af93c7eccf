// axe-core in the page: every test ends with an accessibility check of the page it is on,
// and fails on any critical or serious finding (moderate and minor ones are printed once).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BLOCKING = new Set(["critical", "serious"]);
const reported = new Set();

/** Runs axe-core on `page` as it is now; throws listing each critical or serious violation. */
export async function checkAccessibility(page, label) {
  const url = page.url();
  if (!/^https?:/.test(url)) return; // about:blank: nothing of ours to check
  await page.waitForLoadState("domcontentloaded");
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  const blocking = violations.filter((v) => BLOCKING.has(v.impact));
  for (const v of violations.filter((v) => !BLOCKING.has(v.impact))) {
    const key = `${new URL(url).pathname} ${v.id}`;
    if (reported.has(key)) continue;
    reported.add(key);
    console.log(`# axe (${v.impact}) ${v.id} on ${new URL(url).pathname}: ${v.help} [${v.targets.join(", ")}]`);
  }
  if (blocking.length) {
    const lines = blocking.map((v) => `${v.impact} ${v.id}: ${v.help} [${v.targets.join(", ")}]`);
    throw new Error(`axe-core after "${label}" on ${new URL(url).pathname}:\n      ${lines.join("\n      ")}`);
  }
}
