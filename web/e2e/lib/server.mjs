// The real `persona serve` for the browser tests: free ports, start, health, stop; the fixture
// home and the weights mirror it runs against.
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { sleep } from "./runner.mjs";
import { JOBS, OUT, PERSONA, PYTHON, ROOT } from "./paths.mjs";

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

/** Waits until /api/health answers; returns its body. */
export async function waitForHealth(base, server, { token = null, timeoutMs = 120_000 } = {}) {
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

/** Stops a child started detached (its own process group: gunicorn and its workers). */
export async function stopProcess(child) {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    /* gone */
  }
  const done = await Promise.race([exited.then(() => true), sleep(25_000).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    await Promise.race([exited, sleep(5000)]);
  }
}

/** Starts `persona serve` on `settings.home` (`jobs`: real engines or stand-ins); returns {server, base}. */
export async function startServer(settings, extra = [], fixedPort = null, env = {}, jobs = JOBS) {
  const port = fixedPort || (await freePort());
  const base = `http://127.0.0.1:${port}`;
  const args = ["serve", "--host", "127.0.0.1", "--port", String(port), jobs === "real" ? "--tiny-models" : "--fixture-jobs", ...extra];
  console.log(`# persona ${args.join(" ").replace(/--token \S+/, "--token ***")}  (PERSONA_HOME=${settings.home})`);
  const server = spawn(PERSONA, args, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, PERSONA_HOME: settings.home, PERSONA_ASSETS: settings.assets_dir, PERSONA_DEVICE: "cpu", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = (chunk) => writeFileSync(join(OUT, "server.log"), chunk, { flag: "a" });
  server.stdout.on("data", log);
  server.stderr.on("data", log);
  return { server, base };
}

/** A fixture home (two models, one cover; songs and recordings beside it): its settings. */
export function buildFixtureHome(dir) {
  const built = spawnSync(PYTHON, ["-m", "persona.testing.home", dir], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`persona.testing.home failed:\n${built.stderr}`);
  return JSON.parse(built.stdout.trim().split("\n").pop());
}

/** A weights mirror on 127.0.0.1 (persona.testing.mirror): {mirror, url, pins}. */
export async function startMirror(dir) {
  const mirror = spawn(PYTHON, ["-m", "persona.testing.mirror", dir], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((ok, fail) => {
    let buf = "";
    mirror.stdout.on("data", (chunk) => {
      buf += chunk;
      if (buf.includes("\n")) ok(buf.split("\n")[0]);
    });
    mirror.once("exit", (code) => fail(new Error(`the weights mirror exited with ${code}`)));
  });
  return { mirror, ...JSON.parse(line) };
}
