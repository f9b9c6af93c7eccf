import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { messages } from "../src/lib/messages.js";
import { interpolate, translate } from "../src/lib/i18n.jsx";
import { health, mockApi, renderApp } from "./helpers.jsx";

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(jsx?|mjs)$/.test(name) ? [path] : [];
  });
}

describe("i18n", () => {
  it("has the same keys in Korean and English", () => {
    expect(Object.keys(messages.ko).sort()).toEqual(Object.keys(messages.en).sort());
  });

  it("defines every key the code asks for", () => {
    const root = join(process.cwd(), "src");
    const used = new Set();
    for (const file of sources(root)) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\bt\(\s*"([a-zA-Z0-9_.]+)"/g)) used.add(m[1]);
      for (const m of text.matchAll(/key: "([a-z]+\.[a-zA-Z]+)"/g)) used.add(m[1]);
      for (const m of text.matchAll(/tr\("([a-zA-Z.]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((key) => !(key in messages.ko));
    expect(missing).toEqual([]);
  });

  it("fills placeholders and falls back to the key", () => {
    expect(interpolate("{a} and {b}", { a: 1 })).toBe("1 and {b}");
    expect(translate("en", "train.count", { n: 2, max: 5 })).toBe("2 of 5 selected");
    expect(translate("ko", "no.such.key")).toBe("no.such.key");
  });

  it("starts in Korean and switches to English and back, remembering the choice", async () => {
    mockApi({ "GET /health": health });
    const user = userEvent.setup();
    renderApp("/");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("내 목소리 모델 만들기");
    expect(document.documentElement.lang).toBe("ko");
    await user.click(screen.getByRole("button", { name: "English" }));
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Create your voice model");
    expect(screen.getByRole("button", { name: "Train" })).toBeInTheDocument();
    expect(document.documentElement.lang).toBe("en");
    expect(window.localStorage.getItem("persona.lang")).toBe("en");
    await user.click(screen.getByRole("button", { name: "한국어" }));
    expect(screen.getByRole("button", { name: "학습하기" })).toBeInTheDocument();
  });
});
