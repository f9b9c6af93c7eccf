// A cover heard while it is made: the preview plays the ready part and grows, seeks within it,
// survives a reload mid-cover, gives way to the finished cover, and a Stop keeps none of it.
// Stand-in covers (server "pieces"): the uploaded song itself becomes the playable part, a 2 s
// piece every 0.6 s, through the real queue, worker, Socket.IO and GET /api/jobs/{id}/audio.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { modelUrl } from "../lib/context.mjs";
import { JOB_TIMEOUT } from "../lib/paths.mjs";
import { assert, sleep } from "../lib/runner.mjs";
import { monoWav } from "../lib/wav.mjs";

export const server = "pieces";

const MODEL = "데모 목소리"; // in every fixture home
const SONG_S = 40;

/** A mono 16-bit WAV: a tone with a slow swell, so a gap or a repeat would be audible. */
function writeSong(path, seconds, rate = 22050) {
  const data = Buffer.alloc(seconds * rate * 2);
  for (let i = 0; i < seconds * rate; i++) {
    const t = i / rate;
    const v = 0.3 * Math.sin(2 * Math.PI * 220 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.25 * t));
    data.writeInt16LE(Math.round(v * 32767), 2 * i);
  }
  writeFileSync(path, monoWav(data, rate, 16));
  return path;
}

/** Seconds in "m:ss" (or "h:mm:ss"). */
const seconds = (text) => text.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);

/** The preview's status line read back: {position, ready, total} in seconds. */
async function previewState(page) {
  const text = await page.getByTestId("cover-preview-status").textContent();
  const m = /([\d:]+) · 들을 수 있는 부분 ([\d:]+) \/ 전체 ([\d:]+)/.exec(text);
  assert(m, `the preview's status reads "${text}"`);
  return { position: seconds(m[1]), ready: seconds(m[2]), total: seconds(m[3]) };
}

/** Waits until the status line's `field` (position, ready) reaches `atLeast` seconds. */
async function waitForPreview(page, field, atLeast) {
  const deadline = Date.now() + JOB_TIMEOUT;
  for (;;) {
    const state = await previewState(page);
    if (state[field] >= atLeast) return state;
    assert(Date.now() < deadline, `the preview's ${field} stayed at ${state[field]} s (waited for ${atLeast} s)`);
    await sleep(100);
  }
}

const waitForReady = (page, atLeast) => waitForPreview(page, "ready", atLeast);

async function startCover(ctx, song) {
  const { page } = ctx;
  await page.goto(`${ctx.base}${modelUrl(MODEL)}`);
  await page.locator('input[name="song"]').setInputFiles(song);
  await page.getByRole("button", { name: "커버하기" }).click();
  await page.getByRole("heading", { name: "커버 만드는 중" }).waitFor({ timeout: JOB_TIMEOUT });
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("persona.coverJob")).job_id);
}

export default async function journey(ctx, test) {
  const { page, tmp, api, shot, state } = ctx;
  const song = join(tmp, "long-song.wav");

  await test("hear a cover while it is made: the preview plays, grows and seeks within the ready part", async () => {
    writeSong(song, SONG_S);
    state.piecesJob = await startCover(ctx, song);
    await page.getByTestId("cover-preview").waitFor({ timeout: JOB_TIMEOUT });
    await waitForReady(page, 4);
    const first = await previewState(page);
    assert(first.total === SONG_S, `the whole song is ${first.total} s, not ${SONG_S}`);
    assert(first.ready >= 4 && first.ready < SONG_S, `ready ${first.ready} s of ${SONG_S}`);
    // the job says the same as the page: metrics.ready_s, and the audio route serves that part
    const job = await api(`/jobs/${state.piecesJob}`);
    assert(job.body.status === "running" && job.body.metrics.ready_s >= 4, `job: ${JSON.stringify(job.body.metrics)}`);
    await page.getByTestId("cover-preview-play").click();
    await page.getByTestId("cover-preview-play").filter({ hasText: "일시정지" }).waitFor();
    await waitForPreview(page, "position", 1); // it plays: the position moves
    await waitForReady(page, first.ready + 2); // more pieces arrived while it played
    const bar = await page.getByTestId("cover-preview-ready").evaluate((el) => parseFloat(el.style.width));
    assert(bar > 0 && bar < 100, `the ready part's bar is ${bar} % wide`);
    await shot("cover-preview-playing");
    // seek within the ready part
    const target = Math.min(8, (await previewState(page)).ready - 1);
    await page.getByRole("slider", { name: "미리 듣기 위치" }).evaluate((el, value) => {
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
      set.call(el, String(value));
      el.dispatchEvent(new Event("input", { bubbles: true }));
    }, target);
    await waitForPreview(page, "position", target);
    const after = await previewState(page);
    assert(after.position >= target && after.position <= after.ready, `after the seek to ${target} s: ${JSON.stringify(after)}`);
  });

  await test("a reload mid-cover brings the preview back with the pieces ready so far", async () => {
    const before = await previewState(page);
    await page.reload();
    await page.getByRole("heading", { name: "커버 만드는 중" }).waitFor({ timeout: JOB_TIMEOUT });
    await page.getByTestId("cover-preview").waitFor({ timeout: JOB_TIMEOUT });
    await waitForReady(page, before.ready);
    const again = await previewState(page);
    assert(again.ready >= before.ready && again.total === SONG_S, `after the reload: ${JSON.stringify(again)} (before ${JSON.stringify(before)})`);
    await page.getByTestId("cover-preview-play").click();
    await page.getByTestId("cover-preview-play").filter({ hasText: "일시정지" }).waitFor();
  }, { needs: ["hear a cover while it is made: the preview plays, grows and seeks within the ready part"] });

  await test("the finished cover replaces the preview", async () => {
    await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
    await page.getByTestId("cover-audio").waitFor();
    assert((await page.getByTestId("cover-preview").count()) === 0, "the preview is still shown");
    const audio = await fetch(`${ctx.base}/api/jobs/${state.piecesJob}/audio`);
    assert(audio.status === 200 && !audio.headers.get("x-persona-preview"), `the job's audio is ${audio.status}, preview ${audio.headers.get("x-persona-preview")}`);
  }, { needs: ["a reload mid-cover brings the preview back with the pieces ready so far"] });

  await test("a Stop mid-cover keeps nothing of it: the preview goes and says so", async () => {
    const kept = (await api("/covers")).body.length;
    const jobId = await startCover(ctx, song);
    await page.getByTestId("cover-preview").waitFor({ timeout: JOB_TIMEOUT });
    await waitForReady(page, 4);
    await page.getByRole("button", { name: "중지" }).click();
    await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: JOB_TIMEOUT });
    await page.getByTestId("cover-preview-discarded").waitFor();
    assert((await page.getByTestId("cover-preview").count()) === 0, "a stopped cover still shows its preview");
    const audio = await api(`/jobs/${jobId}/audio`);
    assert(audio.status === 404 && audio.body.error?.code === "cover_not_playable", `a stopped cover's audio: ${audio.status} ${JSON.stringify(audio.body)}`);
    const covers = (await api("/covers")).body;
    assert(covers.length === kept && !covers.some((c) => c.job_id === jobId), "the stopped cover is in the library");
    await shot("cover-preview-stopped");
  });
}
