import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { cleanup, configure } from "@testing-library/react";

// findBy*/waitFor wait up to 5 s, not 1 s: on a loaded shared machine a page's first render after
// a mocked request can take longer than a second (account.test.jsx failed so at load 15).
configure({ asyncUtilTimeout: 5000 });

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  window.sessionStorage.clear();
});

import { resetHealth } from "../src/lib/health.js";
afterEach(() => resetHealth());

import { resetAssets } from "../src/lib/assets.js";
afterEach(() => resetAssets());
