// "이 파일이 AI로 만들어졌나요?" (/check) at phone width: anyone uploads a file and learns whether it
// carries Persona's watermark; a marked file (made here by persona.provenance) says yes, the
// fixture's unmarked song says no, and nothing scrolls sideways.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { DESKTOP, PHONE, PYTHON } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";

export const server = "fixture";

const MARK = `
import sys, numpy as np, soundfile as sf
from persona.provenance import mark_audio
from persona.testing.audio import song_like
mix, _, _ = song_like(20.0, 44100, seed=5)
mix = mix + np.random.default_rng(1).standard_normal(mix.shape).astype(np.float32) * 0.02
sf.write(sys.argv[1], mark_audio(mix, 44100).T, 44100, subtype="PCM_16")
`;

export default async function journey(ctx, test) {
  const { page, fixture, shot } = ctx;
  await test("check page: a marked file is recognised, an unmarked one is not, at phone width", async () => {
    const marked = join(ctx.tmp, "AI 커버.wav");
    const made = spawnSync(PYTHON, ["-c", MARK, marked], { encoding: "utf-8" });
    assert(made.status === 0, `could not make a marked file: ${made.stderr}`);
    await page.setViewportSize(PHONE);
    await page.goto(`${ctx.base}/check`);
    await page.getByRole("heading", { level: 1, name: "이 파일이 AI로 만들어졌나요?" }).waitFor();
    await page.locator('input[name="check"]').setInputFiles(marked);
    await page.getByTestId("check-submit").click();
    const answer = page.getByTestId("check-answer");
    await answer.waitFor({ timeout: 60_000 });
    assert((await answer.textContent()).includes("네, Persona로 만든 AI 음성입니다."), await answer.textContent());
    await shot("phone-check-marked");
    await page.locator('input[name="check"]').setInputFiles(join(fixture, "song.wav"));
    await page.getByTestId("check-submit").click();
    await page.getByText("Persona의 워터마크를 찾지 못했습니다.").waitFor({ timeout: 60_000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `/check scrolls sideways by ${overflow}px`);
    await page.setViewportSize(DESKTOP);
  });
}
