// A server restart during training: the page says so, reconnects and catches up.
import { join } from "node:path";
import { JOB_TIMEOUT, JOBS } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";
import { waitForHealth } from "../lib/server.mjs";

export const server = "fixture";

export default async function journey(ctx, test) {
  const { page, fixture, api, shot } = ctx;
  await test("server restart during training: the page says so, reconnects and catches up", async () => {
    const name = "재연결 테스트";
    await page.goto(`${ctx.base}/train`);
    await page.locator('input[name="recordings"]').setInputFiles([join(fixture, "voice1.wav")]);
    await page.getByLabel("모델 이름", { exact: true }).fill(name);
    await page.getByLabel("학습 횟수 (에포크)").fill(JOBS === "real" ? "50" : "100");
    await page.getByRole("button", { name: "학습하기" }).click();
    await page.getByTestId("job-epoch").waitFor({ timeout: JOB_TIMEOUT });
    // settings left alone go out as the server's own defaults (GET /api/health options)
    const jobId = await page.evaluate(() => JSON.parse(sessionStorage.getItem("persona.trainJob")).job_id);
    const [job, health] = [await api(`/jobs/${jobId}`), await api("/health")];
    for (const key of ["batch_size", "save_every", "sample_rate", "f0_method"]) {
      const want = health.body.options.train[key].default;
      assert(String(job.body.params[key]) === String(want), `${key}: the page sent ${job.body.params[key]}, the server's default is ${want}`);
    }
    const port = new URL(ctx.base).port;
    await ctx.stopServer();
    await page.getByText("서버와 연결이 끊겼습니다").waitFor({ timeout: 30_000 });
    await shot("connection-lost");
    await ctx.startServer([], Number(port));
    await waitForHealth(ctx.base, ctx.server);
    // The worker picks the interrupted training up again; the page hears of it without a reload.
    await page.getByText("서버와 연결이 끊겼습니다").waitFor({ state: "detached", timeout: 60_000 });
    await page.getByTestId("job-status").filter({ hasText: "진행 중" }).waitFor({ timeout: JOB_TIMEOUT });
    const before = await page.getByTestId("job-epoch").textContent();
    await page.waitForFunction(
      (prev) => document.querySelector("[data-testid=job-epoch]")?.textContent !== prev,
      before,
      { timeout: JOB_TIMEOUT },
    );
    await page.getByRole("button", { name: "중지" }).click();
    await page.getByTestId("job-status").filter({ hasText: "중지됨" }).waitFor({ timeout: JOB_TIMEOUT });
  });
}
