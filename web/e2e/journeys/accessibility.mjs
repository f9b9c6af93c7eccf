// axe-core on every page at phone and desktop width, with the folded settings open (each test
// also checks the page it ends on; this journey makes sure every page is seen at both widths).
import { modelUrl } from "../lib/context.mjs";
import { checkAccessibility } from "../lib/axe.mjs";
import { DESKTOP, PHONE } from "../lib/paths.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, state } = ctx;
  for (const [width, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ]) {
    await test(`accessibility at ${width} width: every page, 0 critical and 0 serious axe-core findings`, async () => {
      await page.setViewportSize(viewport);
      try {
        const pages = ["/train", modelUrl(state.trained), "/library", "/no/such/page"];
        if (state.coverId) pages.push(`/covers/${encodeURIComponent(state.coverId)}`);
        for (const path of pages) {
          await page.goto(`${ctx.base}${path}`);
          await page.getByRole("heading", { level: 1 }).waitFor();
          // open every folded section (advanced settings, merge) so their fields are checked too
          const folded = page.locator("details:not([open]) > summary:visible");
          for (let i = 0; i < 10 && (await folded.count()); i += 1) await folded.first().click();
          await checkAccessibility(page, `${path} at ${width} width`);
        }
      } finally {
        await page.setViewportSize(DESKTOP);
      }
    }, { needs: ["train a tiny model through the page and watch it complete"] });
  }
}
