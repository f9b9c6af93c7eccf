// The model zip: download it from the model page, upload it again from the train page.
import { readFileSync } from "node:fs";
import { modelUrl } from "../lib/context.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, state } = ctx;
  const { uploaded, zipPath } = state;
  await test("download the model zip from the model page", async () => {
    await page.goto(`${ctx.base}${modelUrl("데모 목소리")}`);
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
    await page.goto(`${ctx.base}/`);
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
}
