// The first visit: the train page in Korean, labelled, reachable by keyboard; wrong files
// and the server's refusals in words.
import { join } from "node:path";
import { assert } from "../lib/runner.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, fixture, shot } = ctx;
  await test("home page renders in Korean with every control labelled", async () => {
    await page.goto(`${ctx.base}/`);
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
    await page.goto(`${ctx.base}/train`);
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
    await page.goto(`${ctx.base}/train`);
    await page.locator('input[name="recordings"]').setInputFiles([
      { name: "메모.txt", mimeType: "text/plain", buffer: Buffer.from("not audio") },
    ]);
    const alert = page.getByTestId("file-errors");
    await alert.waitFor();
    const text = await alert.textContent();
    assert(text.includes("메모.txt") && text.includes(".wav"), `unexpected message: ${text}`);
  });

  await test("the server's error is shown in words (duplicate model name)", async () => {
    await page.goto(`${ctx.base}/train`);
    await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
    await page.getByLabel("모델 이름", { exact: true }).fill("데모 목소리");
    await page.getByLabel("학습 횟수 (에포크)").fill("2");
    await page.getByRole("button", { name: "학습하기" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const shown = await alert.innerText(); // what a person sees: the code is folded under 자세히
    assert(shown.includes("이미 있거나") && !shown.includes("model_exists"), `unexpected error text: ${shown}`);
    await alert.getByText("자세히").click();
    assert((await alert.getByTestId("error-code").innerText()) === "model_exists", "the code is not kept for support");
  });
}
