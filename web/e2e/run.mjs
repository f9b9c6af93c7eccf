// End-to-end tests: the built app in Debian's Chromium (driven by playwright-core) against the
// REAL `persona serve` on a fixture home (python -m persona.testing.home).
//
// Jobs: by default the server's worker runs the REAL engines (`--tiny-models`: real training,
// separation, conversion and mixing on tiny random-weight assets in the real file formats, since
// pretrained weights cannot be downloaded here). PERSONA_E2E_JOBS=fixture swaps in quick stand-in
// handlers (API, queue, workers, Socket.IO and files stay real) for fast front-end iteration.
//
// Prints one line per test and closes with "N passed, N failed"; exits 1 on any failure.
// Screenshots and the server's log go to web/test-results/.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(WEB, "..");
const OUT = join(WEB, "test-results");
const PYTHON = process.env.PERSONA_PYTHON || join(ROOT, ".venv", "bin", "python");
const PERSONA = process.env.PERSONA_BIN || join(ROOT, ".venv", "bin", "persona");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const JOBS = process.env.PERSONA_E2E_JOBS || "real";
const JOB_TIMEOUT = JOBS === "real" ? 600_000 : 90_000;
const CHROME_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// ---- a tiny test runner -------------------------------------------------------------------
const results = [];
let pageErrors = [];

// PERSONA_E2E_GREP=regex runs only the tests whose name matches (the others are left out, not failed).
const GREP = process.env.PERSONA_E2E_GREP ? new RegExp(process.env.PERSONA_E2E_GREP) : null;

async function test(name, fn, { needs = [] } = {}) {
  if (GREP && !GREP.test(name)) return;
  const missing = needs.filter((n) => !results.find((r) => r.name === n && r.ok));
  if (missing.length) {
    results.push({ name, ok: false, skipped: true });
    console.log(`not ok - ${name} (skipped: needs ${missing.join(", ")})`);
    return;
  }
  pageErrors = [];
  const started = Date.now();
  try {
    await fn();
    if (pageErrors.length) throw new Error(`errors in the page: ${pageErrors.join(" | ")}`);
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}\n    ${String(error && error.stack ? error.stack : error).split("\n").slice(0, 4).join("\n    ")}`);
    await shot(`failed-${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`).catch(() => {});
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// ---- the server -----------------------------------------------------------------------------
// PERSONA_E2E_PORTS=7200-7299 keeps the servers inside a range (a shared machine); else any free port.
const PORT_RANGE = (process.env.PERSONA_E2E_PORTS || "").split("-").map(Number);
let nextPort = PORT_RANGE[0] || 0;

function listenOn(port) {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(port, "127.0.0.1", () => {
      const { port: got } = srv.address();
      srv.close(() => ok(got));
    });
  });
}

async function freePort() {
  if (!nextPort) return listenOn(0);
  while (nextPort <= (PORT_RANGE[1] || nextPort)) {
    const port = nextPort++;
    try {
      return await listenOn(port);
    } catch {
      /* taken: try the next one */
    }
  }
  throw new Error(`no free port in ${process.env.PERSONA_E2E_PORTS}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHealth(base, server, { token = null, timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`persona serve exited with ${server.exitCode} (see test-results/server.log)`);
    try {
      const r = await fetch(`${base}/api/health`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      if (r.ok) return r.json();
    } catch {
      /* not up yet */
    }
    await sleep(300);
  }
  throw new Error("persona serve did not answer /api/health in time");
}

async function stopServer(server) {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  try {
    process.kill(-server.pid, "SIGTERM"); // its own process group: gunicorn and its worker
  } catch {
    /* gone */
  }
  const done = await Promise.race([exited.then(() => true), sleep(25_000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    await Promise.race([exited, sleep(5000)]);
  }
}

async function startServer(settings, extra = [], fixedPort = null, env = {}) {
  const port = fixedPort || (await freePort());
  base = `http://127.0.0.1:${port}`;
  const logPath = join(OUT, "server.log");
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), JOBS === "real" ? "--tiny-models" : "--fixture-jobs", ...extra];
  console.log(`# persona ${args.join(" ").replace(/--token \S+/, "--token ***")}  (PERSONA_HOME=${settings.home})`);
  const server = spawn(PERSONA, args, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, PERSONA_HOME: settings.home, PERSONA_ASSETS: settings.assets_dir, PERSONA_DEVICE: "cpu", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = (chunk) => writeFileSync(logPath, chunk, { flag: "a" });
  server.stdout.on("data", log);
  server.stderr.on("data", log);
  return server;
}

// ---- page helpers ---------------------------------------------------------------------------
let page;
let base;
let shotIndex = 0;

async function shot(name) {
  shotIndex += 1;
  const path = join(OUT, `${String(shotIndex).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

async function api(path, init) {
  const r = await fetch(`${base}/api${path}`, init);
  const text = await r.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body };
}

const modelUrl = (name) => `/models/${encodeURIComponent(name)}`;

// ---- main -----------------------------------------------------------------------------------
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
  let server = null;
  let mirror = null;
  let context = null;
  try {
    // A fixture home: two models, one cover, fixture songs and recordings beside it.
    const built = spawnSync(PYTHON, ["-m", "persona.testing.home", join(tmp, "fixture")], { cwd: ROOT, encoding: "utf8" });
    if (built.status !== 0) throw new Error(`persona.testing.home failed:\n${built.stderr}`);
    const settings = JSON.parse(built.stdout.trim().split("\n").pop());
    const fixture = join(tmp, "fixture");
    writeFileSync(join(OUT, "server.log"), "");
    server = await startServer(settings);
    const health = await waitForHealth(base, server);
    console.log(`# server up: version ${health.version}, device ${health.device}`);

    const userData = mkdtempSync(join(tmp, "chromium-"));
    context = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROME_ARGS,
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
      locale: "ko-KR",
    });
    context.setDefaultTimeout(20_000);
    page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) pageErrors.push(msg.text());
    });

    const trained = "e2e 목소리";
    const uploaded = "zip-업로드";
    let coverId = null;

    await test("home page renders in Korean with every control labelled", async () => {
      await page.goto(`${base}/`);
      await page.getByRole("heading", { level: 1, name: "내 목소리 모델 만들기" }).waitFor();
      await page.getByLabel("모델 이름", { exact: true }).waitFor();
      await page.getByLabel("학습 횟수 (에포크)").waitFor();
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll("input, select, button")]
          .filter((el) => {
            const hasLabel = el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
            return !hasLabel && !(el.textContent || "").trim();
          })
          .map((el) => el.outerHTML.slice(0, 80)),
      );
      assert(unlabelled.length === 0, `controls without a label: ${unlabelled.join(", ")}`);
      await shot("train-ko");
    });

    await test("keyboard: Tab reaches the skip link, the file picker and the form", async () => {
      await page.goto(`${base}/train`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      const seen = [];
      for (let i = 0; i < 10; i += 1) {
        await page.keyboard.press("Tab");
        seen.push(await page.evaluate(() => {
          const el = document.activeElement;
          return el.getAttribute("name") || el.id || el.className || el.tagName;
        }));
      }
      assert(seen[0] === "skip-link", `first Tab stop was ${seen[0]}`);
      assert(seen.includes("recordings"), `the file picker was not reached: ${seen.join(", ")}`);
      assert(seen.includes("train-name"), `the name field was not reached: ${seen.join(", ")}`);
    });

    await test("file checks refuse a wrong type before uploading", async () => {
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([
        { name: "메모.txt", mimeType: "text/plain", buffer: Buffer.from("not audio") },
      ]);
      const alert = page.getByTestId("file-errors");
      await alert.waitFor();
      const text = await alert.textContent();
      assert(text.includes("메모.txt") && text.includes(".wav"), `unexpected message: ${text}`);
    });

    await test("the server's error is shown in words (duplicate model name)", async () => {
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
      await page.getByLabel("모델 이름", { exact: true }).fill("데모 목소리");
      await page.getByLabel("학습 횟수 (에포크)").fill("2");
      await page.getByRole("button", { name: "학습하기" }).click();
      const alert = page.getByRole("alert");
      await alert.waitFor();
      const text = await alert.textContent();
      assert(/model_exists|already|exists/i.test(text), `unexpected error text: ${text}`);
    });

    await test("train a tiny model through the page and watch it complete", async () => {
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav"), join(fixture, "voice2.wav")]);
      await page.getByText("2 / 5개 선택됨").waitFor();
      await page.getByLabel("모델 이름", { exact: true }).fill(trained);
      await page.getByLabel("학습 횟수 (에포크)").fill("3");
      await page.getByText("고급 설정").click();
      await page.getByLabel("배치 크기").fill("2");
      await page.getByLabel("저장 간격 (에포크)").fill("1");
      await page.getByRole("button", { name: "학습하기" }).click();
      await page.getByRole("heading", { name: `‘${trained}’ 학습 중` }).waitFor();
      await page.getByTestId("job-status").waitFor();
      await page.getByTestId("job-epoch").waitFor({ timeout: JOB_TIMEOUT });
      await shot("training-progress");
      await page.waitForURL(`**${modelUrl(trained)}`, { timeout: JOB_TIMEOUT });
      await page.getByTestId("model-name").filter({ hasText: trained }).waitFor();
      await page.getByTestId("model-notice").waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem("persona.modelName"));
      assert(stored === trained, `sessionStorage model name: ${stored}`);
      const r = await api(`/models/${encodeURIComponent(trained)}`);
      assert(r.status === 200 && r.body.name === trained, `model not in the library: ${r.status}`);
    });

    await test("the model page charts losses and metrics by round and plays every save's preview", async () => {
      await page.goto(`${base}${modelUrl(trained)}`);
      const chart = page.getByTestId("epoch-chart");
      await chart.waitFor({ timeout: 30_000 });
      const points = Number(await chart.getAttribute("data-points"));
      assert(points >= 3, `chart has ${points} epochs`);
      await page.locator("[data-testid=epoch-chart] .epoch-chart-canvas[data-drawn=true] canvas").first().waitFor();
      const size = await page.locator("[data-testid=epoch-chart] canvas").first().evaluate((c) => [c.width, c.height]);
      assert(size[0] > 100 && size[1] > 50, `chart canvas ${size}`);
      await page.getByTestId("choice").waitFor();
      const chosenText = await page.getByTestId("choice").textContent();
      assert(/회차/.test(chosenText), `choice says: ${chosenText}`);
      for (const epoch of [1, 2, 3]) {
        const audio = page.getByTestId(`preview-${epoch}`);
        await audio.waitFor();
        const duration = await audio.evaluate(
          (el) =>
            new Promise((ok) => {
              if (el.readyState >= 1 && Number.isFinite(el.duration)) return ok(el.duration);
              el.addEventListener("loadedmetadata", () => ok(el.duration), { once: true });
              el.addEventListener("error", () => ok(-1), { once: true });
              el.preload = "metadata";
              el.load();
            }),
        );
        assert(duration > 0, `preview ${epoch} duration ${duration}`);
      }
      const similarity = await page.getByTestId("metrics-1-speaker_similarity").textContent();
      assert(/\d|계산 불가/.test(similarity), `similarity shown as ${similarity}`);
      await shot("model-saves");
      if (JOBS === "real") {
        // Every save of this short training is kept: export round 1 instead of the chosen one.
        await page.getByTestId("export-pick").selectOption("1");
        await page.getByTestId("export-save").click();
        await page.getByTestId("choice").filter({ hasText: "직접 고른" }).waitFor();
        const r = await api(`/models/${encodeURIComponent(trained)}`);
        assert(r.body.training.exported_epoch === 1, `exported epoch ${r.body.training.exported_epoch}`);
      }
    }, { needs: ["train a tiny model through the page and watch it complete"] });

    await test("reload during training resubscribes; a closed tab finds it again; Stop keeps the model", async () => {
      const name = "중지 테스트";
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
      await page.getByLabel("모델 이름", { exact: true }).fill(name);
      await page.getByLabel("학습 횟수 (에포크)").fill(JOBS === "real" ? "50" : "100");
      // A stop keeps the last save (none before the first): save after every epoch.
      await page.getByText("고급 설정").click();
      await page.getByLabel("저장 간격 (에포크)").fill("1");
      await page.getByRole("button", { name: "학습하기" }).click();
      await page.getByTestId("job-epoch").waitFor({ timeout: JOB_TIMEOUT });
      const before = await page.getByTestId("job-epoch").textContent();
      await page.reload();
      await page.getByRole("heading", { name: `‘${name}’ 학습 중` }).waitFor();
      await page.getByTestId("job-epoch").waitFor();
      // progress keeps coming after the reload
      await page.waitForFunction(
        (prev) => {
          const el = document.querySelector("[data-testid=job-epoch]");
          return el && el.textContent !== prev;
        },
        before,
        { timeout: JOB_TIMEOUT },
      );
      // A new tab knows nothing of the job: the library lists it and leads back to it.
      await page.evaluate(() => sessionStorage.clear());
      await page.goto(`${base}/library`);
      const jobs = page.getByTestId("job-list");
      await jobs.getByText(`‘${name}’ 학습`).waitFor();
      await jobs.getByRole("button", { name: "진행 상황 보기" }).click();
      await page.getByRole("heading", { name: `‘${name}’ 학습 중` }).waitFor();
      await page.getByTestId("job-epoch").waitFor();
      // One 11 s recording cannot spare a preview slice (real engines): the page says why.
      // Fixture jobs make a preview at every round: its player appears while training runs.
      if (JOBS === "real") await page.getByTestId("previews-off").waitFor({ timeout: JOB_TIMEOUT });
      else await page.locator("[data-testid=saves] audio").first().waitFor({ timeout: JOB_TIMEOUT });
      await page.getByRole("button", { name: "중지" }).first().click();
      await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: JOB_TIMEOUT });
      await page.getByRole("link", { name: "마지막으로 저장된 모델 열기" }).waitFor();
      await shot("training-stopped");
      const stored = await page.evaluate(() => sessionStorage.getItem("persona.trainJob"));
      assert(stored === null, "the stopped job is still remembered");
    });

    const zipPath = join(tmp, "demo-model.zip");
    await test("download the model zip from the model page", async () => {
      await page.goto(`${base}${modelUrl("데모 목소리")}`);
      await page.getByText("v2", { exact: true }).waitFor();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: /모델 저장하기/ }).click(),
      ]);
      await download.saveAs(zipPath);
      const bytes = readFileSync(zipPath);
      assert(bytes.length > 1000 && bytes[0] === 0x50 && bytes[1] === 0x4b, `not a zip (${bytes.length} bytes)`);
      assert(download.suggestedFilename().endsWith(".zip"), `file name ${download.suggestedFilename()}`);
    });

    await test("upload a model zip", async () => {
      await page.goto(`${base}/`);
      await page.locator('input[name="model-zip"]').setInputFiles(zipPath);
      await page.getByLabel("모델 이름 (선택)").fill(uploaded);
      await page.getByRole("button", { name: "모델 업로드" }).click();
      const outcome = await Promise.race([
        page.waitForURL(`**${modelUrl(uploaded)}`).then(() => "ok"),
        page.getByRole("alert").waitFor().then(() => "alert"),
      ]);
      if (outcome === "alert") {
        const text = await page.getByRole("alert").textContent();
        assert(false, `upload refused: ${text}`);
      }
      await page.getByTestId("model-name").filter({ hasText: uploaded }).waitFor();
      await page.getByText("v2", { exact: true }).waitFor();
    }, { needs: ["download the model zip from the model page"] });

    await test("make a cover with live progress by stage", async () => {
      await page.goto(`${base}${modelUrl(trained)}`);
      await page.locator('input[name="song"]').setInputFiles(join(fixture, "song.wav"));
      await page.getByRole("button", { name: /\+12/ }).click();
      await page.getByRole("spinbutton", { name: "음높이 값" }).waitFor();
      const value = await page.getByRole("spinbutton", { name: "음높이 값" }).inputValue();
      assert(value === "12", `pitch is ${value}`);
      await shot("model-page");
      await page.getByRole("button", { name: "커버하기" }).click();
      await page.getByRole("heading", { name: "커버 만드는 중" }).waitFor();
      await page.locator(".stages li").first().waitFor({ timeout: JOB_TIMEOUT });
      await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
      coverId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
      const r = await api(`/covers/${coverId}`);
      assert(r.status === 200 && r.body.pitch === 12, `cover ${coverId}: ${JSON.stringify(r.body)}`);
    }, { needs: ["train a tiny model through the page and watch it complete"] });

    await test("the cover page's audio element loads (duration > 0)", async () => {
      await page.getByTestId("cover-audio").waitFor();
      const duration = await page.waitForFunction(
        () => {
          const a = document.querySelector("[data-testid=cover-audio]");
          return a && a.readyState >= 1 && a.duration > 0 ? a.duration : false;
        },
        null,
        { timeout: 30_000 },
      );
      const seconds = await duration.jsonValue();
      assert(seconds > 0.5, `duration ${seconds}`);
      const shown = await page.getByTestId("cover-duration").textContent();
      assert(/\d:\d\d/.test(shown), `length shown as ${shown}`);
      await shot("cover-page");
    }, { needs: ["make a cover with live progress by stage"] });

    await test("download the cover", async () => {
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: /노래 저장하기/ }).click(),
      ]);
      const target = join(tmp, "cover-download");
      await download.saveAs(target);
      const bytes = readFileSync(target);
      assert(bytes.length > 1000 && bytes.subarray(0, 4).toString() === "RIFF", `not a wav (${bytes.length} bytes)`);
      const r = await api(`/covers/${coverId}`);
      assert(r.body.size_bytes === statSync(target).size, "downloaded size differs from the server's");
    }, { needs: ["make a cover with live progress by stage"] });

    await test("A/B: the original song plays from the same position as the cover", async () => {
      await page.getByTestId("ab-toggle").waitFor();
      await page.waitForFunction(() => document.querySelector("[data-testid=cover-audio]").readyState >= 1);
      await page.evaluate(() => {
        document.querySelector("[data-testid=cover-audio]").currentTime = 1.25;
      });
      await page.getByTestId("ab-original").click();
      const moved = await page.waitForFunction(
        () => {
          const a = document.querySelector("[data-testid=cover-audio]");
          return a.src.includes("/original") && a.readyState >= 1 ? a.currentTime : false;
        },
        null,
        { timeout: 30_000 },
      );
      const at = await moved.jsonValue();
      assert(Math.abs(at - 1.25) < 0.2, `original starts at ${at} s, not where the cover was`);
      const original = await api(`/covers/${coverId}/original`);
      assert(original.status === 200, `original: ${original.status}`);
      await page.getByTestId("ab-cover").click();
      await page.waitForFunction(() => !document.querySelector("[data-testid=cover-audio]").src.includes("/original"));
      await shot("cover-ab");
    }, { needs: ["make a cover with live progress by stage"] });

    await test("back to the model from the cover page", async () => {
      await page.getByRole("link", { name: "모델로 돌아가기" }).click();
      await page.waitForURL(`**${modelUrl(trained)}`);
    }, { needs: ["make a cover with live progress by stage"] });

    await test("two songs at once with hybrid pitch, autotune and formant: two covers, one progress view", async () => {
      await page.goto(`${base}${modelUrl(trained)}`);
      // Two names of their own: the picker drops a file picked twice, and the delete test below
      // finds the first cover by its song's name.
      const songs = ["첫번째 노래.wav", "두번째 노래.wav"].map((n) => join(tmp, n));
      for (const song of songs) copyFileSync(join(fixture, "song.wav"), song);
      await page.locator('input[name="song"]').setInputFiles(songs);
      await page.getByText("고급 변환 설정").click();
      await page.getByLabel("음높이 추출 방식").selectOption("hybrid[rmvpe+fcpe+swiftf0]");
      await page.getByLabel("오토튠 강도").fill("1");
      await page.getByLabel("오토튠 조(키)").selectOption("a minor");
      await page.getByLabel("포먼트 (음색) 이동").fill("2");
      await page.getByRole("button", { name: "커버하기" }).click();
      const batch = page.getByTestId("cover-batch");
      await batch.waitFor();
      const rows = batch.getByTestId("batch-row");
      const count = await rows.count();
      assert(count === 2, `${count} batch rows for two songs`);
      await page.waitForFunction(
        () => [...document.querySelectorAll("[data-testid=batch-row]")].every((r) => r.dataset.status === "succeeded"),
        null,
        { timeout: JOB_TIMEOUT * 2 },
      );
      await shot("cover-batch");
      const links = await batch.getByTestId("batch-open").count();
      assert(links === count, `${links} links for ${count} covers`);
      const covers = (await api("/covers")).body;
      const made = covers.filter((c) => c.options && c.options.autotune === 1 && c.options.formant === 2);
      assert(made.length === count, `${made.length} covers with the voice controls, expected ${count}`);
      assert(made.every((c) => c.options.f0_method === "hybrid[rmvpe+fcpe+swiftf0]"), "hybrid method not recorded");
    }, { needs: ["make a cover with live progress by stage"] });

    await test("merge two models from the library", async () => {
      const again = new FormData();
      again.append("file", new Blob([readFileSync(zipPath)]), "again.zip");
      again.append("name", "zip-둘째");
      const up = await api("/models/upload", { method: "POST", body: again });
      assert(up.status === 201, `second upload: ${up.status} ${JSON.stringify(up.body)}`);
      await page.goto(`${base}/library`);
      await page.getByText("두 모델 섞기").click();
      await page.getByLabel("첫 번째 모델", { exact: true }).selectOption(uploaded);
      await page.getByLabel("두 번째 모델", { exact: true }).selectOption("zip-둘째");
      await page.getByLabel("첫 번째 모델의 비율").fill("0.3");
      await page.getByLabel("새 모델 이름").fill("섞은 목소리");
      await shot("library-merge");
      await page.getByRole("button", { name: "섞기", exact: true }).click();
      await page.waitForURL(`**${modelUrl("섞은 목소리")}`);
      const m = (await api(`/models/${encodeURIComponent("섞은 목소리")}`)).body;
      assert(m.source === "merged" && m.merged_from && m.merged_from.weight === 0.3, JSON.stringify(m));
    }, { needs: ["download the model zip from the model page", "upload a model zip"] });

    await test("deep links work on reload", async () => {
      await page.goto(`${base}${modelUrl(trained)}`);
      await page.reload();
      await page.getByTestId("model-name").filter({ hasText: trained }).waitFor();
      const r = await fetch(`${base}/no/such/page`);
      assert(r.status === 200, `SPA fallback answered ${r.status}`);
      await page.goto(`${base}/no/such/page`);
      await page.getByRole("heading", { name: "페이지를 찾을 수 없습니다" }).waitFor();
    });

    await test("switch to English and back", async () => {
      await page.goto(`${base}/library`);
      await page.getByRole("button", { name: "English" }).click();
      await page.getByRole("heading", { level: 1, name: "Library" }).waitFor();
      await page.reload();
      await page.getByRole("heading", { level: 1, name: "Library" }).waitFor();
      await shot("library-en");
      await page.getByRole("button", { name: "한국어" }).click();
      await page.getByRole("heading", { level: 1, name: "라이브러리" }).waitFor();
    });

    await test("delete a cover and a model from the library, with confirmation", async () => {
      await page.goto(`${base}/library`);
      await page.getByTestId("model-list").waitFor();
      // Cancel first: nothing is deleted.
      await page.getByRole("button", { name: `모델 ${uploaded} 삭제` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "취소" }).click();
      assert((await api(`/models/${encodeURIComponent(uploaded)}`)).status === 200, "cancel deleted the model");
      await page.getByRole("button", { name: `모델 ${uploaded} 삭제` }).click();
      await shot("library-confirm");
      await page.getByRole("dialog").getByRole("button", { name: "삭제" }).click();
      await page.getByRole("link", { name: uploaded, exact: true }).waitFor({ state: "detached" });
      assert((await api(`/models/${encodeURIComponent(uploaded)}`)).status === 404, "the model is still on the server");
      if (coverId) {
        const coverName = (await api(`/covers/${coverId}`)).body.song_name;
        await page.getByRole("button", { name: `커버 ${coverName} 삭제` }).first().click();
        await page.getByRole("dialog").getByRole("button", { name: "삭제" }).click();
        await page.getByRole("dialog").waitFor({ state: "detached" });
        const deadline = Date.now() + 10_000;
        while ((await api(`/covers/${coverId}`)).status !== 404 && Date.now() < deadline) await sleep(200);
        assert((await api(`/covers/${coverId}`)).status === 404, "the cover is still on the server");
      }
    });

    await test("server restart during training: the page says so, reconnects and catches up", async () => {
      const name = "재연결 테스트";
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
      await page.getByLabel("모델 이름", { exact: true }).fill(name);
      await page.getByLabel("학습 횟수 (에포크)").fill(JOBS === "real" ? "50" : "100");
      await page.getByRole("button", { name: "학습하기" }).click();
      await page.getByTestId("job-epoch").waitFor({ timeout: JOB_TIMEOUT });
      // settings left alone go out as the server's own defaults (GET /api/health options)
      const jobId = await page.evaluate(() => JSON.parse(sessionStorage.getItem("persona.trainJob")).job_id);
      const [job, health] = [await api(`/jobs/${jobId}`), await api("/health")];
      for (const key of ["batch_size", "save_every", "sample_rate", "f0_method"]) {
        const want = health.body.options.train[key].default;
        assert(String(job.body.params[key]) === String(want), `${key}: the page sent ${job.body.params[key]}, the server's default is ${want}`);
      }
      const port = new URL(base).port;
      await stopServer(server);
      await page.getByText("서버와 연결이 끊겼습니다").waitFor({ timeout: 30_000 });
      await shot("connection-lost");
      server = await startServer(settings, [], Number(port));
      await waitForHealth(base, server);
      // The worker picks the interrupted training up again; the page hears of it without a reload.
      await page.getByText("서버와 연결이 끊겼습니다").waitFor({ state: "detached", timeout: 60_000 });
      await page.getByTestId("job-status").filter({ hasText: "진행 중" }).waitFor({ timeout: JOB_TIMEOUT });
      const before = await page.getByTestId("job-epoch").textContent();
      await page.waitForFunction(
        (prev) => document.querySelector("[data-testid=job-epoch]")?.textContent !== prev,
        before,
        { timeout: JOB_TIMEOUT },
      );
      await page.getByRole("button", { name: "중지" }).click();
      await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: JOB_TIMEOUT });
    });

    await test("phone-sized screen: no sideways scrolling, everything reachable", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const path of ["/train", modelUrl(trained), "/library"]) {
        await page.goto(`${base}${path}`);
        await page.getByRole("heading", { level: 1 }).waitFor();
        await page.waitForLoadState("networkidle").catch(() => {});
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
      }
      await page.goto(`${base}/train`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await shot("phone-train");
      await page.goto(`${base}${modelUrl(trained)}`);
      await page.getByRole("button", { name: "커버하기" }).waitFor();
      await shot("phone-model");
      await page.setViewportSize({ width: 1280, height: 900 });
    });

    // ---- the same home behind an access token ----
    await stopServer(server);
    const token = `e2e-${Math.random().toString(36).slice(2)}`;
    server = await startServer(settings, ["--token", token]);
    await waitForHealth(base, server, { token });
    await page.evaluate(() => localStorage.removeItem("persona.token")).catch(() => {}); // about:blank when tests were left out

    await test("access token: asked for on 401, kept, sent to the API, the player and Socket.IO", async () => {
      const anon = await fetch(`${base}/api/models`);
      assert(anon.status === 401, `the API answered ${anon.status} without a token`);
      await page.goto(`${base}/library`);
      const dialog = page.getByRole("dialog", { name: "접근 토큰" });
      await dialog.waitFor();
      await shot("token-dialog");
      await dialog.getByLabel("토큰").fill(token);
      await dialog.getByRole("button", { name: "저장하고 계속" }).click();
      await page.getByTestId("model-list").waitFor();
      const kept = await page.evaluate(() => localStorage.getItem("persona.token"));
      assert(kept === token, "the token was not kept in localStorage");
      // A cover made behind the token: the upload, the Socket.IO progress and the player all pass.
      await page.goto(`${base}${modelUrl(trained)}`);
      await page.locator('input[name="song"]').setInputFiles(join(fixture, "song.wav"));
      await page.getByRole("button", { name: "커버하기" }).click();
      await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
      const src = await page.getByTestId("cover-audio").getAttribute("src");
      assert(src.includes(`token=${token}`), `player URL without the token: ${src}`);
      await page.waitForFunction(() => document.querySelector("[data-testid=cover-audio]")?.duration > 0, null, { timeout: 30_000 });
    }, { needs: ["train a tiny model through the page and watch it complete"] });

    // ---- an empty home: no weights, no models; the weights come from a mirror on 127.0.0.1 ----
    await stopServer(server);
    server = null;
    if (JOBS === "real") {
      mirror = spawn(PYTHON, ["-m", "persona.testing.mirror", join(tmp, "mirror")], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "inherit"] });
      const line = await new Promise((ok, fail) => {
        let buf = "";
        mirror.stdout.on("data", (chunk) => {
          buf += chunk;
          if (buf.includes("\n")) ok(buf.split("\n")[0]);
        });
        mirror.once("exit", (code) => fail(new Error(`the weights mirror exited with ${code}`)));
      });
      const { url, pins } = JSON.parse(line);
      const empty = { home: join(tmp, "empty", "home"), assets_dir: join(tmp, "empty", "assets") };
      server = await startServer(empty, [], null, { PERSONA_ASSET_BASE_URL: url, PERSONA_ASSET_PINS: pins });
      await waitForHealth(base, server);
      await page.evaluate(() => localStorage.removeItem("persona.token")).catch(() => {}); // about:blank when tests were left out
    }

    await test("empty home on a phone: weights banner with size and command, Train disabled with the reason", async () => {
      assert(JOBS === "real", "needs the real engines (PERSONA_E2E_JOBS=real)");
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/train`);
      const banner = page.getByTestId("assets-banner");
      await banner.waitFor();
      const text = await banner.textContent();
      assert(text.includes("사전 학습 가중치가 필요합니다") && text.includes("rmvpe.pt") && /\d+(\.\d)? (KB|MB)/.test(text), `banner: ${text}`);
      assert(!text.includes("`"), "the banner shows Markdown backticks");
      const command = await banner.locator("pre code").first().textContent();
      assert(command.startsWith("persona assets download"), `offline command: ${command}`);
      await page.getByTestId("needs-reason").waitFor();
      assert(await page.getByRole("button", { name: "학습하기" }).isDisabled(), "Train is enabled without weights");
      const refused = await api("/trainings", { method: "POST", body: new FormData() });
      assert(refused.status === 400 || refused.status === 409, `POST /trainings answered ${refused.status}`);
      await shot("phone-empty-home");
    });

    await test("a renamed non-audio file is refused by its first bytes", async () => {
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([
        { name: "가짜.wav", mimeType: "audio/wav", buffer: Buffer.from("this is not a wave file at all") },
      ]);
      const alert = page.getByTestId("file-errors");
      await alert.waitFor();
      const text = await alert.textContent();
      assert(text.includes("가짜.wav") && text.includes("오디오 파일이 아닙니다"), `unexpected message: ${text}`);
    });

    await test("one button downloads the weights with progress; then Train is offered", async () => {
      assert(JOBS === "real", "needs the real engines (PERSONA_E2E_JOBS=real)");
      await page.goto(`${base}/train`);
      await page.getByTestId("assets-download").click();
      await page.getByTestId("assets-banner").waitFor({ state: "detached", timeout: 180_000 });
      await page.getByTestId("needs-reason").waitFor({ state: "detached", timeout: 30_000 });
      assert(!(await page.getByRole("button", { name: "학습하기" }).isDisabled()), "Train stays disabled after the download");
      const r = await api("/assets");
      assert(r.status === 200 && r.body.missing.length === 0, `still missing: ${JSON.stringify(r.body.missing)}`);
    }, { needs: ["empty home on a phone: weights banner with size and command, Train disabled with the reason"] });

    await test("Hangul renders in the shipped web font (Noto Sans KR)", async () => {
      await page.goto(`${base}/train`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      const loaded = await page.evaluate(async () => {
        await document.fonts.load("16px 'Noto Sans KR'", "내 목소리");
        await document.fonts.ready;
        return [...document.fonts].some((f) => f.family.replace(/['"]/g, "") === "Noto Sans KR" && f.status === "loaded");
      });
      assert(loaded, "the Noto Sans KR web font did not load");
    });

    await test("on a phone the progress card comes into view; Stop before the first save keeps nothing", async () => {
      assert(JOBS === "real", "needs the real engines (PERSONA_E2E_JOBS=real)");
      const name = "빈집 중지";
      await page.goto(`${base}/train`);
      await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
      await page.getByLabel("모델 이름", { exact: true }).fill(name);
      await page.getByLabel("학습 횟수 (에포크)").fill("50");
      await page.getByText("고급 설정").click();
      await page.getByLabel("저장 간격 (에포크)").fill("50");
      await page.getByRole("button", { name: "학습하기" }).click();
      const heading = page.getByTestId("job-heading");
      await heading.waitFor();
      await page.getByTestId("job-status").waitFor();
      await page.waitForTimeout(1000); // the smooth scroll
      const top = await heading.evaluate((el) => el.getBoundingClientRect().top);
      assert(top >= -1 && top < 844 - 40, `the progress card is off-screen (top ${top}px)`);
      await page.getByRole("button", { name: "중지" }).click();
      await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: 30_000 });
      await page.getByRole("heading", { name: `‘${name}’ 학습 중지됨` }).waitFor();
      await page.getByText("첫 저장 전에 중지해서 남은 모델이 없습니다").waitFor();
      await page.getByRole("button", { name: "새로 학습하기" }).waitFor();
      const body = await page.locator("main").textContent();
      for (const internal of ["01.wav", "0_0", "window 1/1", "htdemucs"]) assert(!body.includes(internal), `the page shows ${internal}`);
      const r = await api(`/models/${encodeURIComponent(name)}`);
      assert(r.status === 404, `a half model was kept: ${r.status}`);
      await shot("phone-stopped-nothing-saved");
      await page.setViewportSize({ width: 1280, height: 900 });
    }, { needs: ["one button downloads the weights with progress; then Train is offered"] });
  } finally {
    if (context) await context.close().catch(() => {});
    await stopServer(server);
    await stopServer(mirror);
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
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + (fatal ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
