// What makes a person trust the page (issue 25): progress in view below the top bar, a refusal
// where they are looking and in their words, the song length limit before the upload; at phone
// and desktop width.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { modelUrl } from "../lib/context.mjs";
import { DESKTOP, JOB_TIMEOUT, PHONE } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";
import { assertInView, placement, settled } from "../lib/view.mjs";
import { monoWav } from "../lib/wav.mjs";

export const server = "fixture";

/** Silence as a WAV: 8 kHz, 8-bit mono, `seconds` long (21 minutes is 10 MB). */
const longWav = (seconds) => monoWav(Buffer.alloc(8000 * seconds, 0x80), 8000, 8);

export default async function journey(ctx, test) {
  const { page, fixture, state, api, shot } = ctx;
  const song = readFileSync(join(fixture, "song.wav"));
  // The model page shows a cover job left running in this tab instead of the form: start afresh.
  const modelPage = async (name) => {
    await page.goto(`${ctx.base}/library`);
    await page.evaluate(() => sessionStorage.removeItem("persona.coverJob"));
    await page.goto(`${ctx.base}${modelUrl(name)}`);
  };

  for (const [width, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ]) {
    await test(`batch covers at ${width} width: the progress card comes into view below the top bar`, async () => {
      await page.setViewportSize(viewport);
      try {
        await modelPage(state.trained);
        await page.locator('input[name="song"]').setInputFiles([
          { name: `${width} 하나.wav`, mimeType: "audio/wav", buffer: song },
          { name: `${width} 둘.wav`, mimeType: "audio/wav", buffer: song },
        ]);
        await page.getByText("고급 변환 설정").click(); // the tall form: the card must still show
        await page.getByRole("button", { name: "커버하기" }).click();
        await page.getByTestId("cover-batch").waitFor();
        await settled(page, "[data-testid=cover-batch] [data-testid=job-heading]");
        await assertInView(page, "[data-testid=cover-batch] [data-testid=job-heading]", "the batch card's title");
        await shot(`batch-in-view-${width}`);
        // the work itself is the cover journey's: stop these two and start over
        const jobs = await page.evaluate(() => JSON.parse(sessionStorage.getItem("persona.coverJob") || "[]"));
        for (const job of jobs) await api(`/jobs/${job.job_id}/cancel`, { method: "POST" });
        await page.getByRole("button", { name: "다시 커버하기" }).click();
      } finally {
        await page.setViewportSize(DESKTOP);
      }
    }, { needs: ["train a tiny model through the page and watch it complete"] });
  }

  for (const [width, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ]) {
    await test(`a refused cover at ${width} width: the server's words in Korean where the person is looking`, async () => {
      const name = `사라질 모델 ${width}`;
      const body = new FormData();
      body.append("file", new Blob([readFileSync(state.zipPath)]), "gone.zip");
      body.append("name", name);
      const up = await api("/models/upload", { method: "POST", body });
      assert(up.status === 201, `upload: ${up.status}`);
      await page.setViewportSize(viewport);
      try {
        await modelPage(name);
        await page.locator('input[name="song"]').setInputFiles({ name: "노래.wav", mimeType: "audio/wav", buffer: song });
        await page.getByText("고급 변환 설정").click();
        await page.getByText("믹스 설정").click();
        assert((await api(`/models/${encodeURIComponent(name)}`, { method: "DELETE" })).status < 300, "delete failed");
        await page.getByRole("button", { name: "커버하기" }).click();
        const alert = page.getByRole("alert");
        await alert.waitFor();
        await settled(page, "[role=alert]");
        const where = await placement(page, "[role=alert]");
        assert(where.top >= where.headerBottom - 1 && where.bottom <= where.viewport, `the error is not in view: ${JSON.stringify(where)}`);
        const focused = await page.evaluate(() => document.activeElement?.getAttribute("role"));
        assert(focused === "alert", `focus is on ${focused}, not the error`);
        const shown = await alert.innerText();
        assert(shown.includes("모델을 찾을 수 없습니다") && !shown.includes("model_not_found"), `error text: ${shown}`);
        await shot(`refused-cover-${width}`);
      } finally {
        await page.setViewportSize(DESKTOP);
      }
    }, { needs: ["download the model zip from the model page"] });
  }

  await test("a song over the length limit is refused before the upload, naming the limit", async () => {
    await modelPage(state.trained);
    const hint = await page.getByTestId("drop-song").locator(".drop-hint").innerText();
    assert(hint.includes("곡당 최대 20분"), `the picker does not name the limit: ${hint}`);
    await page.locator('input[name="song"]').setInputFiles({ name: "아주 긴 노래.wav", mimeType: "audio/wav", buffer: longWav(21 * 60) });
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const shown = await alert.innerText();
    assert(shown.includes("아주 긴 노래.wav") && shown.includes("21분") && shown.includes("최대 20분"), `message: ${shown}`);
    const kept = await page.getByRole("button", { name: "아주 긴 노래.wav 빼기" }).count();
    assert(kept === 0, "the long song was kept for upload");
  }, { needs: ["train a tiny model through the page and watch it complete"] });

  for (const [width, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ]) {
    await test(`a training behind another says it is queued, with its place, at ${width} width; Stop says so once`, async () => {
      const ahead = new FormData();
      ahead.append("files", new Blob([readFileSync(join(fixture, "voice1.wav"))]), "voice1.wav");
      ahead.append("name", `앞선 학습 ${width}`);
      ahead.append("epochs", "50");
      const first = await api("/trainings", { method: "POST", body: ahead });
      assert(first.status === 202, `first training: ${first.status} ${JSON.stringify(first.body)}`);
      await page.setViewportSize(viewport);
      try {
        await page.goto(`${ctx.base}/train`);
        await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
        await page.getByLabel("모델 이름", { exact: true }).fill(`뒤의 학습 ${width}`);
        await page.getByLabel("학습 횟수 (에포크)").fill("50");
        await page.getByRole("button", { name: "학습하기" }).click();
        await page.getByRole("heading", { name: `‘뒤의 학습 ${width}’ 학습 대기 중` }).waitFor({ timeout: 60_000 });
        const place = await page.getByTestId("job-queue").innerText();
        assert(/대기열 \d+번째/.test(place), `queue line: ${place}`); // the phone run's training may still be stopping
        assert((await page.getByTestId("job-status").innerText()) === "대기 중", "status is not 대기 중");
        await settled(page, "[data-testid=job-heading]");
        await assertInView(page, "[data-testid=job-heading]", "the queued card's title");
        await shot(`queued-training-${width}`);
        await page.getByRole("button", { name: "중지" }).click();
        await page.getByTestId("job-stopping").waitFor().catch(() => {}); // may already be stopped
        const said = await page.locator("main").innerText();
        assert((said.match(/중지하는 중/g) || []).length <= 1, "중지하는 중… is said more than once");
        await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: 30_000 });
      } finally {
        await api(`/jobs/${first.body.job_id}/cancel`, { method: "POST" });
        await page.setViewportSize(DESKTOP);
      }
    });
  }

  for (const [width, viewport, format, label, magic] of [
    ["phone", PHONE, "ogg", "OGG (Opus)", "OggS"],
    ["desktop", DESKTOP, "m4a", "M4A (AAC)", "ftyp"],
  ]) {
    await test(`a cover as ${label} at ${width} width, with the high-note octave fix: plays, downloads, says so`, async () => {
      await page.setViewportSize(viewport);
      try {
        await modelPage(state.trained);
        await page.locator('input[name="song"]').setInputFiles({ name: `${format} 노래.wav`, mimeType: "audio/wav", buffer: song });
        await page.getByText("고급 변환 설정").click();
        await page.getByLabel("높은 음 옥타브 보정").check();
        await page.getByText("믹스 설정").click();
        await page.getByLabel("파일 형식").selectOption(format);
        assert((await page.getByLabel("파일 형식").locator("option:checked").innerText()) === label, "format label");
        await page.getByRole("button", { name: "커버하기" }).click();
        await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
        const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
        const cover = (await api(`/covers/${encodeURIComponent(id)}`)).body;
        assert(cover.format === format, `cover format ${cover.format}`);
        assert(cover.options && cover.options.f0_octave_fix === true, `options: ${JSON.stringify(cover.options)}`);
        await page.waitForFunction(() => document.querySelector("[data-testid=cover-audio]")?.duration > 0, null, { timeout: 30_000 });
        const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /노래 저장하기/ }).click()]);
        const target = join(ctx.tmp, `cover-download.${format}`);
        await download.saveAs(target);
        const bytes = readFileSync(target);
        const at = format === "m4a" ? 4 : 0;
        assert(bytes.subarray(at, at + 4).toString() === magic, `${format} download starts with ${bytes.subarray(0, 8).toString("hex")}`);
        assert(download.suggestedFilename().endsWith(`.${format}`), `file name ${download.suggestedFilename()}`);
        await shot(`cover-${format}-${width}`);
      } finally {
        await page.setViewportSize(DESKTOP);
      }
    }, { needs: ["train a tiny model through the page and watch it complete"] });
  }

  await test("a trained model saved with 모델 저장하기 and uploaded again keeps what Persona knew (phone width)", async () => {
    const original = (await api(`/models/${encodeURIComponent(state.trained)}`)).body;
    const zip = await fetch(`${ctx.base}/api/models/${encodeURIComponent(state.trained)}/download`);
    assert(zip.ok, `download: ${zip.status}`);
    const path = join(ctx.tmp, "round-trip.zip");
    writeFileSync(path, Buffer.from(await zip.arrayBuffer()));
    await page.setViewportSize(PHONE);
    try {
      const name = "돌아온 목소리";
      await page.goto(`${ctx.base}/`);
      await page.locator('input[name="model-zip"]').setInputFiles(path);
      await page.getByLabel("모델 이름 (선택)").fill(name);
      await page.getByRole("button", { name: "모델 업로드" }).click();
      await page.waitForURL(`**${modelUrl(name)}`);
      const back = (await api(`/models/${encodeURIComponent(name)}`)).body;
      for (const key of ["voice_profile", "quality", "f0_unvoiced", "embedder"]) {
        assert(JSON.stringify(back[key]) === JSON.stringify(original[key]), `${key}: ${JSON.stringify(back[key])} != ${JSON.stringify(original[key])}`);
      }
      if (original.voice_profile) await page.getByRole("heading", { name: "목소리 특성" }).waitFor();
      await shot("round-trip-phone");
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  }, { needs: ["train a tiny model through the page and watch it complete"] });
}
