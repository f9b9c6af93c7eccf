// Accounts: the first admin from the first-run page (this machine only), then every page asks
// to sign in; a second person added on the admin page signs in (a wrong password in Korean
// first), sees their usage, makes a token that works for scripts, and signs out; on a phone.
// Then they change their password by keyboard: their other session ends, the token still works,
// the old password is refused and the new one signs in.
import { join } from "node:path";
import { checkAccessibility } from "../lib/axe.mjs";
import { modelUrl } from "../lib/context.mjs";
import { DESKTOP, JOB_TIMEOUT, PHONE } from "../lib/paths.mjs";
import { assert } from "../lib/runner.mjs";
import { checkWords } from "../lib/words.mjs";

export const server = "accounts";
const ADMIN = { name: "관리자", password: "correct horse battery staple" };
const MINA = { name: "Mina", password: "purple monkey dishwasher 42" };
const MINA_NEW = "quiet lantern orchard 7 river";

async function signIn(page, who, password = who.password) {
  const form = page.getByRole("form", { name: "로그인" });
  await form.waitFor();
  await form.getByLabel("이름").fill(who.name);
  await form.getByLabel("비밀번호").fill(password);
  await form.getByRole("button", { name: "로그인" }).click();
}

export default async function journey(ctx, test) {
  const { page, api, shot } = ctx;

  await test("accounts: the first admin from the first-run page, then nothing without signing in", async () => {
    await page.setViewportSize(DESKTOP);
    await page.goto(`${ctx.base}/library`);
    await page.getByRole("link", { name: "여러 사람이 쓰도록 계정 켜기" }).click();
    const form = page.getByRole("form", { name: "첫 관리자 만들기" });
    await form.getByLabel("이름").fill(ADMIN.name);
    await form.getByLabel("비밀번호").fill("short");
    await form.getByRole("button", { name: "관리자 만들고 로그인" }).click();
    const weak = await page.getByRole("alert").textContent();
    assert(weak.includes("10자 이상"), `weak password reason: ${weak}`);
    await form.getByLabel("비밀번호").fill(ADMIN.password);
    await form.getByRole("button", { name: "관리자 만들고 로그인" }).click();
    await page.getByLabel(`${ADMIN.name} 계정 메뉴`).waitFor();
    const anon = await api("/models");
    assert(anon.status === 401 && anon.body.error.code === "auth_required", `anonymous /api/models: ${anon.status}`);
    await shot("accounts-admin-signed-in");
  });

  await test("accounts: a signed-in cover streams its progress over the session's socket and plays", async () => {
    await page.goto(`${ctx.base}${modelUrl("데모 목소리")}`);
    await page.locator('input[name="song"]').setInputFiles(join(ctx.fixture, "song.wav"));
    await page.getByRole("button", { name: "커버하기" }).click();
    await page.getByRole("heading", { name: "커버 만드는 중" }).waitFor();
    await page.locator(".stages li").first().waitFor({ timeout: JOB_TIMEOUT }); // a Socket.IO event
    await page.waitForURL("**/covers/**", { timeout: JOB_TIMEOUT });
    await page.waitForFunction(() => document.querySelector("[data-testid=cover-audio]")?.duration > 0, null, {
      timeout: 30_000,
    });
    const src = await page.getByTestId("cover-audio").getAttribute("src");
    assert(!src.includes("token="), `the player URL carries a token: ${src}`);
  }, { needs: ["accounts: the first admin from the first-run page, then nothing without signing in"] });

  await test("accounts: the admin adds a person and sees them on the admin page", async () => {
    await page.goto(`${ctx.base}/admin`);
    await page.getByLabel("이름").fill(MINA.name);
    await page.getByLabel("비밀번호").fill(MINA.password);
    await page.getByLabel("저장 용량 한도 (GB, 비우면 기본값)").fill("2");
    await page.getByRole("button", { name: "추가", exact: true }).click();
    await page.getByRole("button", { name: `${MINA.name} 사용 중지` }).waitFor();
    await shot("accounts-admin-page");
    await page.getByLabel(`${ADMIN.name} 계정 메뉴`).click();
    await page.getByRole("button", { name: "로그아웃" }).click();
    await page.getByRole("form", { name: "로그인" }).waitFor();
  }, { needs: ["accounts: the first admin from the first-run page, then nothing without signing in"] });

  await test("accounts on a phone: wrong password in Korean, sign in, usage, a token for scripts, sign out", async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${ctx.base}/library`);
    await signIn(page, MINA, "not the password");
    const wrong = await page.getByRole("alert").textContent();
    assert(wrong.includes("이름 또는 비밀번호가 맞지 않습니다"), `wrong password: ${wrong}`);
    await signIn(page, MINA);
    await page.getByTestId("model-list").or(page.getByText("라이브러리").first()).first().waitFor();
    await page.getByLabel(`${MINA.name} 계정 메뉴`).click();
    const usage = await page.locator(".account-usage").textContent();
    assert(/사용량 .+ \/ 1\.9 GB|사용량 .+ \/ 2 GB/.test(usage), `usage: ${usage}`);
    await page.getByRole("link", { name: "접근 토큰" }).click();
    await page.getByLabel("토큰 이름 (어디에 쓰는지)").fill("노트북");
    await page.getByRole("button", { name: "새 토큰 만들기" }).click();
    const token = (await page.getByTestId("new-token").textContent()).trim();
    ctx.state.minaToken = token;
    const me = await api("/me", { headers: { Authorization: `Bearer ${token}` } });
    assert(me.status === 200 && me.body.username === MINA.name, `token /api/me: ${me.status}`);
    await shot("accounts-phone-tokens");
    await page.getByLabel(`${MINA.name} 계정 메뉴`).click();
    await page.getByRole("button", { name: "로그아웃" }).click();
    await page.getByRole("form", { name: "로그인" }).waitFor();
    const cookieUse = await page.evaluate(async () => (await fetch("/api/me")).status);
    assert(cookieUse === 401, `after sign-out the browser still reached /api/me: ${cookieUse}`);
  }, { needs: ["accounts: the admin adds a person and sees them on the admin page"] });

  await test("accounts on a phone: change the password by keyboard; other sessions end, tokens stay, the new one signs in", async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${ctx.base}/library`);
    await signIn(page, MINA);
    await page.getByLabel(`${MINA.name} 계정 메뉴`).waitFor();
    // Another device of Mina's, signed in too (a session cookie outside this browser).
    const laptop = await fetch(`${ctx.base}/api/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: MINA.name, password: MINA.password }),
    });
    const laptopCookie = (laptop.headers.get("set-cookie") || "").split(";")[0];
    const laptopMe = async () => (await fetch(`${ctx.base}/api/me`, { headers: { Cookie: laptopCookie } })).status;
    assert(laptop.status === 200 && (await laptopMe()) === 200, `second session: ${laptop.status}`);
    await page.getByLabel(`${MINA.name} 계정 메뉴`).click();
    await page.getByRole("link", { name: "비밀번호 바꾸기" }).click();
    const form = page.getByRole("form", { name: "비밀번호 바꾸기" });
    await form.waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= PHONE.width, `the password page is wider than the phone: ${wide}px`);
    await form.getByLabel("지금 비밀번호").focus();
    await page.keyboard.type("not the password");
    await page.keyboard.press("Tab");
    await page.keyboard.type(MINA_NEW);
    await page.keyboard.press("Tab");
    await page.keyboard.type(MINA_NEW);
    await page.keyboard.press("Enter");
    const wrong = await page.getByRole("alert").textContent();
    assert(wrong.includes("비밀번호가 맞지 않습니다"), `wrong current password: ${wrong}`);
    await form.getByLabel("지금 비밀번호").fill(MINA.password);
    await form.getByLabel("지금 비밀번호").press("Enter");
    const done = await page.getByTestId("password-changed").textContent();
    assert(done.includes("로그아웃되었습니다") && done.includes("접근 토큰은 그대로"), `after the change: ${done}`);
    await shot("accounts-phone-password");
    await checkAccessibility(page, "the password page on a phone"); // the test ends on another page
    await checkWords(page, "the password page on a phone");
    assert((await laptopMe()) === 401, "the other session still works after the password change");
    const here = await page.evaluate(async () => (await fetch("/api/me")).status);
    assert(here === 200, `this browser was signed out by its own password change: ${here}`);
    const byToken = await api("/me", { headers: { Authorization: `Bearer ${ctx.state.minaToken}` } });
    assert(byToken.status === 200, `the token stopped working after the password change: ${byToken.status}`);
    await page.getByLabel(`${MINA.name} 계정 메뉴`).click();
    await page.getByRole("button", { name: "로그아웃" }).click();
    await signIn(page, MINA);
    const old = await page.getByRole("alert").textContent();
    assert(old.includes("이름 또는 비밀번호가 맞지 않습니다"), `the old password: ${old}`);
    await signIn(page, MINA, MINA_NEW);
    await page.getByLabel(`${MINA.name} 계정 메뉴`).waitFor();
  }, { needs: ["accounts on a phone: wrong password in Korean, sign in, usage, a token for scripts, sign out"] });
}
