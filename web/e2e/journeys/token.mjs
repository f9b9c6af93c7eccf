// The same home behind an access token: asked for, kept, sent everywhere.
import { join } from "node:path";
import { modelUrl } from "../lib/context.mjs";
import { JOB_TIMEOUT } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "token";

export default async function journey(ctx, test) {
  const { page, fixture, state, api, shot } = ctx;
  const { trained } = state;
  await test("access token: asked for on 401, kept, sent to the API, the player and Socket.IO", async () => {
    const anon = await fetch(`${ctx.base}/api/models`);
    assert(anon.status === 401, `the API answered ${anon.status} without a token`);
    await page.goto(`${ctx.base}/library`);
    const dialog = page.getByRole("dialog", { name: "접근 토큰" });
    await dialog.waitFor();
    await shot("token-dialog");
    await dialog.getByLabel("토큰").fill(ctx.token);
    await dialog.getByRole("button", { name: "저장하고 계속" }).click();
    await page.getByTestId("model-list").waitFor();
    const kept = await page.evaluate(() => localStorage.getItem("persona.token"));
    assert(kept === ctx.token, "the token was not kept in localStorage");
    // A cover made behind the token: the upload, the Socket.IO progress and the player all pass.
    await page.goto(`${ctx.base}${modelUrl(trained)}`);
    await page.locator('input[name="song"]').setInputFiles(join(fixture, "song.wav"));
    await page.getByRole("button", { name: "커버하기" }).click();
    await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
    const src = await page.getByTestId("cover-audio").getAttribute("src");
    assert(!src.includes("token="), `the token is in the player's URL: ${src}`); // the cookie carries it
    await page.waitForFunction(() => document.querySelector("[data-testid=cover-audio]")?.duration > 0, null, { timeout: 30_000 });
  }, { needs: ["train a tiny model through the page and watch it complete"] });
}
