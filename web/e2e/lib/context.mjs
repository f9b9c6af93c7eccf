// What every journey gets: the page, the running server (`base`, `api`), the fixture files,
// screenshots, and `state` that later journeys read from earlier ones (the trained model, the
// exported zip, the cover). `ctx.useServer(kind)` brings up the server a journey runs against.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, DESKTOP, JOBS, OUT } from "./paths.mjs";
import { buildFixtureHome, startMirror, startServer, stopProcess, waitForHealth } from "./server.mjs";

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

export const modelUrl = (name) => `/models/${encodeURIComponent(name)}`;

export async function createContext(tmp) {
  const fixture = join(tmp, "fixture");
  const settings = buildFixtureHome(fixture);
  writeFileSync(join(OUT, "server.log"), "");
  // The microphone: Chromium's fake capture device plays a reading (the consent journey records it).
  const reading = join(tmp, "microphone.wav");
  spawnSync("text2wave", ["-eval", "(voice_kal_diphone)", "-o", reading], {
    input: "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage. Four hours of steady work faced us.",
  });
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmp, "chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROME_ARGS,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${reading}`,
    ],
    viewport: DESKTOP,
    acceptDownloads: true,
    locale: "ko-KR",
  });
  browser.setDefaultTimeout(20_000);
  const page = browser.pages()[0] || (await browser.newPage());
  let shotIndex = 0;

  const ctx = {
    tmp,
    fixture,
    settings,
    browser,
    page,
    base: null,
    server: null,
    serverKind: null,
    token: null,
    mirror: null,
    pageErrors: [],
    // Shared between journeys: names and files the later ones build on.
    state: { trained: "e2e 목소리", uploaded: "zip-업로드", coverId: null, zipPath: join(tmp, "demo-model.zip") },
    before: async () => {},

    async shot(name) {
      shotIndex += 1;
      const path = join(OUT, `${String(shotIndex).padStart(2, "0")}-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },

    async api(path, init) {
      const r = await fetch(`${ctx.base}/api${path}`, init);
      const text = await r.text();
      let body = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: r.status, body };
    },

    /** (Re)starts the server on the same home and port (the restart journey). */
    async startServer(extra = [], port = null, env = {}, home = settings, jobs = JOBS) {
      const started = await startServer(home, extra, port, env, jobs);
      ctx.server = started.server;
      ctx.base = started.base;
      return ctx.server;
    },

    async stopServer() {
      await stopProcess(ctx.server);
    },

    /**
     * The server a journey runs against: "fixture" (the fixture home), "pieces" (the same home with
     * stand-in covers that grow their playable part slowly), "consent" (the same home asking for consent), "token" (the same home behind an access token), "empty" (no weights,
     * no models; weights from a local mirror) or "accounts" (a fixture home of its own, where the
     * accounts journey makes the first admin).
     */
    async useServer(kind) {
      if (ctx.serverKind === kind && ctx.server && ctx.server.exitCode === null) return;
      await stopProcess(ctx.server);
      ctx.server = null;
      ctx.serverKind = kind;
      let token = null;
      if (kind === "fixture") {
        await ctx.startServer();
      } else if (kind === "consent") {
        await ctx.startServer([], null, { PERSONA_CONSENT: "on" });
      } else if (kind === "token") {
        token = ctx.token = `e2e-${Math.random().toString(36).slice(2)}`;
        await ctx.startServer(["--token", token]);
      } else if (kind === "pieces") {
        // Stand-in covers whatever PERSONA_E2E_JOBS says: the song itself grows as the playable
        // part, a 2 s piece every 0.6 s, slow enough to reload and stop mid-cover.
        await ctx.startServer([], null, { PERSONA_FIXTURE_PIECE_PAUSE_S: "0.6" }, settings, "fixture");
      } else if (kind === "accounts") {
        // A home of its own: the first account turns accounts on for good.
        ctx.accountsHome = ctx.accountsHome || buildFixtureHome(join(tmp, "accounts"));
        await ctx.startServer([], null, {}, ctx.accountsHome);
      } else if (kind === "empty" && JOBS === "real") {
        ctx.mirror = ctx.mirror || (await startMirror(join(tmp, "mirror")));
        const empty = { home: join(tmp, "empty", "home"), assets_dir: join(tmp, "empty", "assets") };
        await ctx.startServer([], null, { PERSONA_ASSET_BASE_URL: ctx.mirror.url, PERSONA_ASSET_PINS: ctx.mirror.pins }, empty);
      } else {
        await ctx.startServer(); // fixture jobs: no mirror, the tests that need one say so
      }
      const health = await waitForHealth(ctx.base, ctx.server, { token });
      console.log(`# server up (${kind}): version ${health.version}, device ${health.device}`);
      // a token kept from another server would be sent to this one
      await page.evaluate(() => localStorage.removeItem("persona.token")).catch(() => {});
    },

    async close() {
      await browser.close().catch(() => {});
      await stopProcess(ctx.server);
      await stopProcess(ctx.mirror && ctx.mirror.mirror);
    },
  };
  page.on("pageerror", (err) => ctx.pageErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/Failed to load resource/.test(msg.text())) ctx.pageErrors.push(msg.text());
  });
  return ctx;
}
