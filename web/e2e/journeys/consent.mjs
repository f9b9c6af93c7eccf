// The consent gate (PERSONA_CONSENT=on): the train page hands out a sentence naming the model,
// records it with the microphone (Chromium's fake capture plays festival speech), and the
// training is accepted only with it; an imported zip asks for the right to use its voice; the
// model page says which consent it has.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { modelUrl } from "../lib/context.mjs";
import { JOB_TIMEOUT } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "consent";

const LINES = [
  "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
  "It is easy to tell the depth of a well. These days a chicken leg is a rare dish.",
  "Rice is often served in round bowls. The juice of lemons makes fine punch.",
];

function say(text, out) {
  const r = spawnSync("text2wave", ["-eval", "(voice_kal_diphone)", "-o", out], { input: text });
  if (r.status !== 0) throw new Error(`text2wave failed: ${r.stderr}`);
  return out;
}

export default async function journey(ctx, test) {
  const { page, api, shot, tmp, state } = ctx;
  const name = "동의 목소리";
  await test("consent: a training needs the sentence read live, and the model page says so", async () => {
    const recordings = LINES.map((line, i) => say(line, join(tmp, `kal-${i}.wav`)));
    await page.goto(`${ctx.base}/train`);
    await page.locator('input[name="recordings"]').setInputFiles(recordings);
    await page.getByLabel("모델 이름", { exact: true }).fill(name);
    await page.getByLabel("학습 횟수 (에포크)").fill("1");
    await page.getByRole("button", { name: "학습하기" }).click();
    await page.getByText("학습하기 전에 동의 문장을 읽어 녹음하세요.").waitFor();
    await page.getByTestId("consent-ask").click();
    const sentence = await page.getByTestId("consent-sentence").textContent();
    assert(sentence.includes(name) && sentence.includes("동의합니다"), `sentence: ${sentence}`);
    await page.getByTestId("consent-start").click();
    await page.getByTestId("consent-recording").waitFor();
    await page.waitForTimeout(7000); // the fake microphone plays the reading
    await page.getByTestId("consent-stop").click();
    await page.getByTestId("consent-done").waitFor();
    await shot("consent-recorded");
    await page.getByRole("button", { name: "학습하기" }).click();
    await page.getByRole("heading", { name: `‘${name}’ 학습 중` }).waitFor();
    await page.waitForURL(`**${modelUrl(name)}`, { timeout: JOB_TIMEOUT });
    await page.getByTestId("model-consent").filter({ hasText: "직접 읽은 동의" }).waitFor();
    const r = await api(`/models/${encodeURIComponent(name)}`);
    assert(r.body.consent?.status === "recorded", `consent: ${JSON.stringify(r.body.consent)}`);
  });

  await test("consent: an imported zip asks for the right to use its voice", async () => {
    await page.goto(`${ctx.base}/`);
    // the page knows the gate is on once GET /api/health answered (the train form's consent part
    // shows); a click before that is refused by the server in its own words instead
    await page.getByTestId("consent-ask").waitFor();
    await page.locator('input[name="model-zip"]').setInputFiles(state.zipPath);
    await page.getByLabel("모델 이름 (선택)").fill("가져온 동의");
    await page.getByRole("button", { name: "모델 업로드" }).click();
    await page.getByText("이 모델의 목소리를 사용할 권리가 있는지 확인란에 체크하세요.").waitFor();
    await page.getByLabel(/사용할 권리가 있음을 확인합니다/).check();
    await page.getByRole("button", { name: "모델 업로드" }).click();
    await page.waitForURL(`**${modelUrl("가져온 동의")}`);
    await page.getByTestId("model-consent").filter({ hasText: "사용 권리 확인됨" }).waitFor();
  }, { needs: ["download the model zip from the model page"] });
}
