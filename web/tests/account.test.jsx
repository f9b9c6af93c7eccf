import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { mockApi, renderApp } from "./helpers.jsx";

const MINA = {
  id: "u1",
  name: "Mina",
  username: "Mina",
  admin: false,
  disabled: false,
  usage: { bytes: 1536 * 1024 * 1024 },
  quota: { bytes: 10 * 1024 * 1024 * 1024 },
};
const ADMIN = { ...MINA, id: "u0", name: "관리자", username: "관리자", admin: true };

function server({ user = null, people = [] } = {}) {
  const state = { user, csrf: user ? "csrf-1" : null, people, tokens: [] };
  const seen = [];
  const routes = {
    "GET /health": () => [200, { status: "ok", workers: [{}] }],
    "GET /session": () => [200, { accounts: true, signed_in: Boolean(state.user), user: state.user, setup: false, csrf_token: state.csrf }],
    "POST /session": (config) => {
      const body = JSON.parse(config.data);
      if (body.password !== "correct horse battery staple")
        return [401, { error: { code: "sign_in_failed", message: "wrong name or password", params: {} } }];
      state.user = body.username === "관리자" ? ADMIN : MINA;
      state.csrf = "csrf-2";
      return [200, { user: state.user, csrf_token: state.csrf }];
    },
    "DELETE /session": (config) => {
      seen.push(["DELETE /session", config.headers["X-CSRF-Token"]]);
      state.user = null;
      return [204, ""];
    },
    "GET /models": () => (state.user ? [200, [{ name: "내목소리", version: "v2", sample_rate: 40000 }]] : [401, { error: { code: "auth_required" } }]),
    "GET /covers": () => (state.user ? [200, []] : [401, { error: { code: "auth_required" } }]),
    "POST /me/password": (config) => {
      const body = JSON.parse(config.data);
      seen.push(["POST /me/password", config.headers["X-CSRF-Token"]]);
      if (body.current_password !== "correct horse battery staple")
        return [403, { error: { code: "password_wrong", message: "the current password is not right", params: {} } }];
      if (body.new_password.length < 10)
        return [400, { error: { code: "password_weak", message: "too short", params: { reason: "too_short", min: 10 } } }];
      state.csrf = "csrf-3";
      return [200, { user: state.user, csrf_token: state.csrf }];
    },
    "GET /tokens": () => [200, state.tokens],
    "POST /tokens": (config) => {
      seen.push(["POST /tokens", config.headers["X-CSRF-Token"]]);
      const made = { id: "t1", label: JSON.parse(config.data).label || "token", created_at: "2026-12-07T10:00:00Z", last_used_at: null };
      state.tokens = [made];
      return [201, { ...made, token: "prs_secret123" }];
    },
    "DELETE /tokens/t1": () => {
      state.tokens = [];
      return [204, ""];
    },
    "GET /admin/users": () => [200, state.people],
    "GET /admin/jobs": () => [200, [{ id: "j1", kind: "cover", status: "running", owner_name: "Mina" }]],
    "PATCH /admin/users/u1": (config) => {
      seen.push(["PATCH", JSON.parse(config.data)]);
      state.people = state.people.map((p) => (p.id === "u1" ? { ...p, disabled: true } : p));
      return [200, state.people[1]];
    },
  };
  return { state, seen, calls: mockApi(routes) };
}

describe("accounts", () => {
  it("asks to sign in, says a wrong password in Korean, then opens the page asked for", async () => {
    server();
    const user = userEvent.setup();
    renderApp("/library");
    const form = await screen.findByRole("form", { name: "로그인" });
    await user.type(within(form).getByLabelText("이름"), "Mina");
    await user.type(within(form).getByLabelText("비밀번호"), "wrong");
    await user.click(within(form).getByRole("button", { name: "로그인" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("이름 또는 비밀번호가 맞지 않습니다.");
    await user.clear(within(form).getByLabelText("비밀번호"));
    await user.type(within(form).getByLabelText("비밀번호"), "correct horse battery staple");
    await user.click(within(form).getByRole("button", { name: "로그인" }));
    expect(await screen.findByRole("link", { name: "내목소리" })).toBeInTheDocument();
    expect(screen.getByLabelText("Mina 계정 메뉴")).toBeInTheDocument();
  });

  it("shows usage against the quota and signs out with the CSRF token", async () => {
    const { seen } = server({ user: MINA });
    const user = userEvent.setup();
    renderApp("/library");
    await user.click(await screen.findByLabelText("Mina 계정 메뉴"));
    expect(screen.getByText("사용량 1.5 GB / 10 GB")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "관리" })).toBeNull();
    await user.click(screen.getByRole("button", { name: "로그아웃" }));
    expect(await screen.findByRole("form", { name: "로그인" })).toBeInTheDocument();
    expect(seen).toEqual([["DELETE /session", "csrf-1"]]);
  });

  it("changes the password from the account menu, by keyboard, with Korean errors", async () => {
    const { seen } = server({ user: MINA });
    const user = userEvent.setup();
    renderApp("/library");
    await user.click(await screen.findByLabelText("Mina 계정 메뉴"));
    await user.click(screen.getByRole("link", { name: "비밀번호 바꾸기" }));
    const form = await screen.findByRole("form", { name: "비밀번호 바꾸기" });
    const current = within(form).getByLabelText("지금 비밀번호");
    const fresh = within(form).getByLabelText("새 비밀번호");
    const again = within(form).getByLabelText("새 비밀번호 확인");
    expect(current).toHaveAttribute("autocomplete", "current-password");
    expect(fresh).toHaveAttribute("autocomplete", "new-password");
    // Typed and sent from the keyboard alone: Tab between the fields, Enter sends.
    await user.click(current);
    await user.keyboard("wrong password");
    await user.tab();
    await user.keyboard("quiet lantern orchard");
    await user.tab();
    await user.keyboard("quiet lantern orchars{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("두 비밀번호가 다릅니다.");
    expect(seen).toEqual([]); // a typo in the second field never reaches the server
    const retype = async (...pairs) => {
      for (const [field, text] of pairs) {
        await user.clear(field);
        await user.type(field, text);
      }
    };
    await retype([again, "quiet lantern orchard{Enter}"]);
    expect(await screen.findByRole("alert")).toHaveTextContent("비밀번호가 맞지 않습니다.");
    await retype([current, "correct horse battery staple"], [fresh, "short"], [again, "short{Enter}"]);
    expect(await screen.findByRole("alert")).toHaveTextContent("비밀번호는 10자 이상이어야 합니다.");
    await retype([fresh, "quiet lantern orchard"], [again, "quiet lantern orchard{Enter}"]);
    const done = await screen.findByTestId("password-changed");
    expect(done).toHaveTextContent("다른 기기와 브라우저에서는 로그아웃되었습니다.");
    expect(done).toHaveTextContent("접근 토큰은 그대로 쓸 수 있습니다.");
    expect(screen.queryByRole("alert")).toBeNull();
    expect(current).toHaveValue("");
    // The fresh session's CSRF token is used from now on (the old one ended with the change).
    await user.click(screen.getByLabelText("Mina 계정 메뉴"));
    await user.click(screen.getByRole("button", { name: "로그아웃" }));
    expect(await screen.findByRole("form", { name: "로그인" })).toBeInTheDocument();
    expect(seen.map(([what, csrf]) => `${what} ${csrf}`)).toEqual([
      "POST /me/password csrf-1",
      "POST /me/password csrf-1",
      "POST /me/password csrf-1",
      "DELETE /session csrf-3",
    ]);
  });

  it("makes a token shown once, and revokes it", async () => {
    const { seen } = server({ user: MINA });
    const user = userEvent.setup();
    renderApp("/account/tokens");
    await user.type(await screen.findByLabelText("토큰 이름 (어디에 쓰는지)"), "노트북");
    await user.click(screen.getByRole("button", { name: "새 토큰 만들기" }));
    expect(await screen.findByTestId("new-token")).toHaveTextContent("prs_secret123");
    expect(seen).toEqual([["POST /tokens", "csrf-1"]]);
    await user.click(await screen.findByRole("button", { name: "토큰 노트북 폐기" }));
    expect(await screen.findByText("아직 토큰이 없습니다.")).toBeInTheDocument();
    expect(screen.queryByTestId("new-token")).toBeNull();
  });

  it("lets an administrator see people, usage and jobs, and disable someone", async () => {
    const { seen } = server({ user: ADMIN, people: [ADMIN, MINA] });
    const user = userEvent.setup();
    renderApp("/admin");
    expect(await screen.findByText("Mina")).toBeInTheDocument();
    expect(screen.getByText(/커버 · Mina · 실행 중/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Mina 사용 중지" }));
    expect(await screen.findByText("사용 중지됨")).toBeInTheDocument();
    expect(seen).toEqual([["PATCH", { disabled: true }]]);
  });
});
