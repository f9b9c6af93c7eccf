import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  window.sessionStorage.clear();
});

import { resetHealth } from "../src/lib/health.js";
afterEach(() => resetHealth());

import { resetAssets } from "../src/lib/assets.js";
afterEach(() => resetAssets());
