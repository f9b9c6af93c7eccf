// The stylesheet's structure. CSS nesting is valid, so an unclosed block does not fail the build:
// it silently nests every rule after it (one once kept the consent, provenance and preview styles
// off every screen wider than a phone). Rules here sit at the top level or in an at-rule only.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CSS = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "styles.css");

/** Blocks opened inside a style rule, closes without an open block, and blocks left open. */
export function structure(css) {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "").replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const open = [];
  const nested = [];
  let extraCloses = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") {
      const prelude = text.slice(start, i).trim();
      if (open.some((p) => !p.startsWith("@"))) nested.push(`${open.at(-1)} > ${prelude}`);
      open.push(prelude);
      start = i + 1;
    } else if (c === "}") {
      if (open.length) open.pop();
      else extraCloses += 1;
      start = i + 1;
    } else if (c === ";") {
      start = i + 1;
    }
  }
  return { nested, extraCloses, unclosed: open };
}

describe("styles.css", () => {
  it("closes every block and nests no rule inside another", () => {
    const found = structure(readFileSync(CSS, "utf8"));
    expect(found.unclosed).toEqual([]);
    expect(found.extraCloses).toBe(0);
    expect(found.nested).toEqual([]);
  });

  it("the check itself sees an unclosed media query swallow the rules after it", () => {
    const found = structure("@media (max-width: 560px) {\n  .a { color: red; }\n.b { color: blue; }\n.c {\n  color: green;\n.d { x: 1; }");
    expect(found.unclosed).toEqual(["@media (max-width: 560px)", ".c"]);
    expect(found.nested).toEqual([".c > .d"]);
  });
});
