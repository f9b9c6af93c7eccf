// A phone-sized screen: no sideways scrolling, everything reachable.
import { modelUrl } from "../lib/context.mjs";
import { DESKTOP, PHONE } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, state, shot } = ctx;
  const { trained } = state;
  await test("phone-sized screen: no sideways scrolling, everything reachable", async () => {
    await page.setViewportSize(PHONE);
    for (const path of ["/train", modelUrl(trained), "/library"]) {
      await page.goto(`${ctx.base}${path}`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await page.waitForLoadState("networkidle").catch(() => {});
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `${path} scrolls sideways by ${overflow}px`);
    }
    await page.goto(`${ctx.base}/train`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await shot("phone-train");
    await page.goto(`${ctx.base}${modelUrl(trained)}`);
    await page.getByRole("button", { name: "커버하기" }).waitFor();
    await shot("phone-model");
    await page.setViewportSize(DESKTOP);
  });
}
