// An empty home (no weights, no models; the weights come from a mirror on 127.0.0.1): the
// weights banner on a phone, one-button download, the web font, Stop before the first save.
import { join } from "node:path";
import { DESKTOP, JOBS, PHONE } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";
import { assertInView, settled } from "../lib/view.mjs";

export const server = "empty";

export default async function journey(ctx, test) {
  const { page, fixture, api, shot } = ctx;
  await test("empty home on a phone: weights banner with size and command, Train disabled with the reason", async () => {
    assert(JOBS === "real", "needs the real engines (PERSONA_E2E_JOBS=real)");
    await page.setViewportSize(PHONE);
    await page.goto(`${ctx.base}/train`);
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
    await page.goto(`${ctx.base}/train`);
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
    await page.goto(`${ctx.base}/train`);
    await page.getByTestId("assets-download").click();
    await page.getByTestId("assets-banner").waitFor({ state: "detached", timeout: 180_000 });
    await page.getByTestId("needs-reason").waitFor({ state: "detached", timeout: 30_000 });
    assert(!(await page.getByRole("button", { name: "학습하기" }).isDisabled()), "Train stays disabled after the download");
    const r = await api("/assets");
    assert(r.status === 200 && r.body.missing.length === 0, `still missing: ${JSON.stringify(r.body.missing)}`);
  }, { needs: ["empty home on a phone: weights banner with size and command, Train disabled with the reason"] });

  await test("Hangul renders in the shipped web font (Noto Sans KR)", async () => {
    await page.goto(`${ctx.base}/train`);
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
    await page.goto(`${ctx.base}/train`);
    await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
    await page.getByLabel("모델 이름", { exact: true }).fill(name);
    await page.getByLabel("학습 횟수 (에포크)").fill("50");
    await page.getByText("고급 설정").click();
    await page.getByLabel("저장 간격 (에포크)").fill("50");
    await page.getByRole("button", { name: "학습하기" }).click();
    const heading = page.getByTestId("job-heading");
    await heading.waitFor();
    await page.getByTestId("job-status").waitFor();
    await settled(page, "[data-testid=job-heading]"); // the smooth scroll
    await assertInView(page, "[data-testid=job-heading]", "the progress card's title"); // below the sticky top bar
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
    await page.setViewportSize(DESKTOP);
  }, { needs: ["one button downloads the weights with progress; then Train is offered"] });
}
