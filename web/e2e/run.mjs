// End-to-end tests: the built app in Debian's Chromium (driven by playwright-core) against the
// REAL `persona serve` on a fixture home (python -m persona.testing.home).
//
// Jobs: by default the server's worker runs the REAL engines (`--tiny-models`: real training,
// separation, conversion and mixing on tiny random-weight assets in the real file formats, since
// pretrained weights cannot be downloaded here). PERSONA_E2E_JOBS=fixture swaps in quick stand-in
// handlers (API, queue, workers, Socket.IO and files stay real) for fast front-end iteration.
//
// One file per journey in journeys/, run in the order below (later ones build on the model,
// zip and cover the earlier ones made); shared helpers in lib/. Every test ends with an
// axe-core check of its page (0 critical, 0 serious). Prints one line per test and closes with
// "N passed, N failed"; exits 1 on any failure. Screenshots and the server's log go to
// web/test-results/. PERSONA_E2E_GREP=regex runs only the tests whose name matches.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContext } from "./lib/context.mjs";
import { CHROMIUM, OUT, PERSONA, PYTHON, WEB } from "./lib/paths.mjs";
import { summary, test } from "./lib/runner.mjs";

const JOURNEYS = [
  "first-visit",
  "train",
  "model-zip",
  "cover",
  "cover-pieces",
  "trust",
  "accessibility",
  "library",
  "restart",
  "phone",
  "check",
  "consent",
  "token",
  "empty-home",
  "accounts",
];

async function main() {
  mkdirSync(OUT, { recursive: true });
  for (const old of readdirSync(OUT)) if (old.endsWith(".png")) rmSync(join(OUT, old));
  for (const [what, path] of [
    ["Chromium (apt-get install chromium)", CHROMIUM],
    ["the Python venv (make install)", PYTHON],
    ["the persona command (make install)", PERSONA],
  ]) {
    if (!existsSync(path)) throw new Error(`missing ${what}: ${path}`);
  }
  if (!existsSync(join(WEB, "dist", "index.html"))) {
    console.log("# building the app (dist/ missing)");
    const b = spawnSync("npm", ["run", "build"], { cwd: WEB, stdio: "inherit" });
    if (b.status !== 0) throw new Error("npm run build failed");
  }
  const tmp = mkdtempSync(join(tmpdir(), "persona-e2e-"));
  let ctx = null;
  try {
    ctx = await createContext(tmp);
    for (const name of JOURNEYS) {
      const journey = await import(`./journeys/${name}.mjs`);
      // the journey's server comes up only when one of its tests is selected
      ctx.before = () => ctx.useServer(journey.server);
      await journey.default(ctx, (title, fn, options) => test(ctx, title, fn, options));
    }
  } finally {
    if (ctx) await ctx.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

let fatal = null;
try {
  await main();
} catch (error) {
  fatal = error;
  console.log(`not ok - e2e setup\n    ${error && error.stack ? error.stack : error}`);
}
process.exit(summary(fatal));
