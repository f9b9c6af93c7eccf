// No internal code or English server text in a Korean page: every test ends with this check of
// the messages a person reads (alerts, quality reasons, progress lines). The raw code folded
// under "자세히" and the names the person gave (quoted ‘…’) are left out.
const PROBE = () => {
  if (!(document.documentElement.lang || "").startsWith("ko")) return [];
  const hangul = /[\uac00-\ud7a3]/;
  const code = /\b[a-z0-9]+_[a-z0-9_]+\b/;
  const found = [];
  for (const el of document.querySelectorAll("[role=alert], .quality-reason, [data-testid=job-message], [data-testid=job-queue]")) {
    if (!el.getClientRects().length) continue; // not shown
    const copy = el.cloneNode(true);
    for (const hidden of copy.querySelectorAll("details, code, pre")) hidden.remove();
    const text = copy.textContent.replace(/‘[^’]*’/g, "").replace(/\s+/g, " ").trim();
    if (!text || text === "!") continue;
    if (!hangul.test(text) || code.test(text)) found.push(text.slice(0, 160));
  }
  return found;
};

/** Throws when a shown message is not Korean or shows an internal code. */
export async function checkWords(page, label) {
  if (!/^https?:/.test(page.url())) return;
  const found = await page.evaluate(PROBE);
  if (found.length) throw new Error(`untranslated words after "${label}": ${found.join(" | ")}`);
}
