// The progressive cover player in Debian's Chromium: pieces that arrive while it plays join
// sample for sample, a late piece resumes after the wait, a seek starts where it is asked.
//
// No server: the player module (src/lib/progressivePlayer.js, no imports) is loaded into a blank
// page and rendered through an OfflineAudioContext, whose suspend(t) lets a piece "arrive" at
// render time t while the earlier pieces play. Prints one line per check; exits 1 on a failure.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const source = readFileSync(join(WEB, "src", "lib", "progressivePlayer.js"), "utf8");

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  let failed = 0;
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><title>player</title>");
    await page.addScriptTag({ type: "module", content: `${source}\nwindow.PP = { ProgressivePlayer, pcmToChannels, byteRange };` });
    await page.waitForFunction(() => window.PP);
    const result = await page.evaluate(async () => {
      const { ProgressivePlayer, pcmToChannels } = window.PP;
      const rate = 8000;
      const total = 3 * rate;
      // A song-like signal whose every sample differs from its neighbours: a gap or a repeat shows.
      const pcm = new Int16Array(total * 2);
      for (let i = 0; i < total; i++) {
        const v = Math.round(12000 * Math.sin((2 * Math.PI * 220 * i) / rate) + 6000 * Math.sin((2 * Math.PI * 3 * i) / rate));
        pcm[2 * i] = v;
        pcm[2 * i + 1] = -v;
      }
      const piece = (a, b) => pcmToChannels(pcm.slice(2 * a, 2 * b).buffer);
      const expected = (i) => pcm[2 * i] / 32768;
      const worst = (data, from, to, shift) => {
        let w = 0;
        for (let i = from; i < to; i++) w = Math.max(w, Math.abs(data[i + shift] - expected(i)));
        return w;
      };
      const out = {};

      // 1. three pieces, the later two arriving while the first ones play
      {
        const ctx = new OfflineAudioContext(2, total + rate, rate);
        const player = new ProgressivePlayer(ctx, rate);
        player.append(piece(0, 5000));
        player.play(0, 0);
        ctx.suspend(0.4).then(() => {
          player.append(piece(5000, 12000));
          ctx.resume();
        });
        ctx.suspend(1.2).then(() => {
          player.append(piece(12000, total));
          ctx.resume();
        });
        const data = (await ctx.startRendering()).getChannelData(0);
        out.gapless = worst(data, 0, total, 0);
        out.ready = player.frames;
      }
      // 2. the third piece comes after playback ran out: it resumes from that piece's start
      {
        const ctx = new OfflineAudioContext(2, total + rate, rate);
        const player = new ProgressivePlayer(ctx, rate);
        player.append(piece(0, 12000));
        player.play(0, 0);
        let resumedAt = 0;
        ctx.suspend(1.75).then(() => {
          out.waiting = player.waiting;
          out.positionWhileWaiting = player.position;
          player.append(piece(12000, total));
          resumedAt = player.t0 + 12000 / rate;
          ctx.resume();
        });
        const data = (await ctx.startRendering()).getChannelData(0);
        const shift = Math.round(resumedAt * rate) - 12000;
        out.beforeWait = worst(data, 0, 12000, 0);
        let silent = 0;
        for (let i = 12000; i < 12000 + shift; i++) silent = Math.max(silent, Math.abs(data[i]));
        out.silentWhileWaiting = silent;
        out.afterWait = worst(data, 12000, total, shift);
        out.shift = shift;
      }
      // 3. seek: playing from 1.25 s starts exactly there
      {
        const ctx = new OfflineAudioContext(2, total, rate);
        const player = new ProgressivePlayer(ctx, rate);
        player.append(piece(0, 9000));
        player.append(piece(9000, total));
        player.play(1.25, 0);
        const data = (await ctx.startRendering()).getChannelData(0);
        out.seek = worst(data, 10000, total, -10000);
      }
      return out;
    });
    const checks = [
      ["pieces arriving during playback join sample for sample", result.gapless < 1e-4 && result.ready === 24000],
      ["a late piece: silence while waiting, then it plays from its start", result.waiting && Math.abs(result.positionWhileWaiting - 1.5) < 1e-6 && result.beforeWait < 1e-4 && result.silentWhileWaiting === 0 && result.afterWait < 1e-4 && result.shift > 0],
      ["seek starts at the asked position", result.seek < 1e-4],
    ];
    for (const [name, ok] of checks) {
      console.log(`${ok ? "ok" : "FAIL"} - ${name}`);
      if (!ok) failed += 1;
    }
    if (failed) console.log(JSON.stringify(result));
  } finally {
    await browser.close();
  }
  console.log(`${3 - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
