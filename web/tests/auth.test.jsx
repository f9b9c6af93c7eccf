import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { useEffect } from "react";
import { I18nProvider, translate } from "../src/lib/i18n.jsx";
import { AppRoutes } from "../src/App.jsx";
import { setTokenPrompt, setToken, errorMessage } from "../src/lib/api.js";
import TokenDialog from "../src/components/TokenDialog.jsx";
import { useState } from "react";
import { mockApi } from "./helpers.jsx";

// The same wiring as App's TokenPrompt, inside a MemoryRouter.
function Prompt() {
  const [req, setReq] = useState(null);
  useEffect(() => {
    setTokenPrompt((hadToken) => new Promise((resolve) => setReq({ hadToken, resolve })));
    return () => setTokenPrompt(null);
  }, []);
  if (!req) return null;
  const done = (v) => {
    req.resolve(v);
    setReq(null);
  };
  return <TokenDialog hadToken={req.hadToken} onSubmit={done} onCancel={() => done(null)} />;
}

describe("access token", () => {
  it("asks for the token on 401, keeps it, and retries with Authorization: Bearer", async () => {
    const seen = [];
    mockApi({
      "GET /health": () => [200, { status: "ok" }],
      "GET /models": (config) => {
        seen.push(config.headers.Authorization);
        return config.headers.Authorization === "Bearer abc" ? [200, [{ name: "m1" }]] : [401, { error: { code: "unauthorized", message: "token required" } }];
      },
      "GET /covers": (config) => (config.headers.Authorization === "Bearer abc" ? [200, []] : [401, { error: { code: "unauthorized", message: "token required" } }]),
    });
    const user = userEvent.setup();
    render(
      <I18nProvider initialLang="en">
        <MemoryRouter initialEntries={["/library"]}>
          <AppRoutes />
          <Prompt />
        </MemoryRouter>
      </I18nProvider>,
    );
    const dialog = await screen.findByRole("dialog", { name: "Access token" });
    await user.type(within(dialog).getByLabelText("Token"), "abc");
    await user.click(within(dialog).getByRole("button", { name: "Save and continue" }));
    expect(await screen.findByRole("link", { name: "m1" })).toBeInTheDocument();
    expect(window.localStorage.getItem("persona.token")).toBe("abc");
    expect(seen).toEqual([undefined, "Bearer abc"]);
  });

  it("shows the error when the user declines to give a token", async () => {
    mockApi({
      "GET /health": () => [200, { status: "ok" }],
      "GET /models": () => [401, { error: { code: "unauthorized", message: "token required" } }],
      "GET /covers": () => [401, { error: { code: "unauthorized", message: "token required" } }],
    });
    const user = userEvent.setup();
    render(
      <I18nProvider initialLang="en">
        <MemoryRouter initialEntries={["/library"]}>
          <AppRoutes />
          <Prompt />
        </MemoryRouter>
      </I18nProvider>,
    );
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("An access token is required.");
  });
});

describe("errorMessage", () => {
  const t = (key, vars) => `${key}${vars ? JSON.stringify(vars) : ""}`;
  it("words a known code from the catalogue, and an unknown one with the server's message", () => {
    expect(errorMessage({ response: { status: 400, data: { error: { code: "x", message: "bad name" } } } }, translate.bind(null, "en"))).toBe("bad name");
    expect(errorMessage({ response: { status: 409, data: { error: { code: "model_exists", message: "dup" } } } }, translate.bind(null, "ko"))).toBe(
      "같은 이름의 모델이 이미 있거나 학습 중입니다. 다른 이름을 쓰세요.",
    );
  });
  it("words statuses without a body", () => {
    expect(errorMessage({ isAxiosError: true, response: { status: 500, data: "<html>" } }, t)).toBe('error.http{"status":500}');
    expect(errorMessage({ isAxiosError: true, response: { status: 413, data: "" } }, t)).toBe("error.tooLarge");
  });
  it("words network failures", () => {
    expect(errorMessage({ isAxiosError: true, code: "ERR_NETWORK", request: {} }, t)).toBe("error.network");
    expect(errorMessage({ isAxiosError: true, code: "ECONNABORTED", request: {} }, t)).toBe("error.timeout");
  });
});

describe("health behind a token", () => {
  it("does not call the server unreachable when the user declines the token", async () => {
    mockApi({
      "GET /health": () => [401, { error: { code: "unauthorized", message: "token required" } }],
      "GET /models": () => [401, { error: { code: "unauthorized", message: "token required" } }],
      "GET /covers": () => [401, { error: { code: "unauthorized", message: "token required" } }],
    });
    const user = userEvent.setup();
    render(
      <I18nProvider initialLang="en">
        <MemoryRouter initialEntries={["/library"]}>
          <AppRoutes />
          <Prompt />
        </MemoryRouter>
      </I18nProvider>,
    );
    await user.click(within(await screen.findByRole("dialog")).getByRole("button", { name: "Cancel" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("An access token is required.");
    expect(screen.queryByText(/Cannot reach the server/)).toBeNull();
  });
});

describe("the token cookie", () => {
  it("carries the saved token for what the browser fetches itself, and goes when it does", () => {
    setToken("s3cret");
    expect(document.cookie).toContain("persona_token=s3cret");
    setToken("");
    expect(document.cookie).not.toContain("persona_token=s3cret");
  });
});
