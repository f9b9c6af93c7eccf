// Covers: one song with live progress, its page (player, download, A/B), two songs at once.
import { copyFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { modelUrl } from "../lib/context.mjs";
import { JOB_TIMEOUT } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, fixture, tmp, state, api, shot } = ctx;
  const { trained } = state;
  await test("make a cover with live progress by stage", async () => {
    await page.goto(`${ctx.base}${modelUrl(trained)}`);
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
    state.coverId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    const r = await api(`/covers/${state.coverId}`);
    assert(r.status === 200 && r.body.pitch === 12, `cover ${state.coverId}: ${JSON.stringify(r.body)}`);
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
    const r = await api(`/covers/${state.coverId}`);
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
    const original = await api(`/covers/${state.coverId}/original`);
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
    await page.goto(`${ctx.base}${modelUrl(trained)}`);
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
}
