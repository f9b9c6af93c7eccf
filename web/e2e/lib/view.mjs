// Where things are on the screen: is an element in view, below the sticky top bar?

/** {top, bottom, headerBottom, viewport} of the first element matching `selector`. */
export async function placement(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const bar = document.querySelector(".topbar");
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, headerBottom: bar ? bar.getBoundingClientRect().bottom : 0, viewport: window.innerHeight };
  }, selector);
}

/** Throws unless `selector` starts below the sticky top bar and inside the window. */
export async function assertInView(page, selector, what) {
  const p = await placement(page, selector);
  if (!p) throw new Error(`${what}: ${selector} is not on the page`);
  if (p.top < p.headerBottom - 1 || p.top > p.viewport - 40) {
    throw new Error(`${what} is not in view: top ${Math.round(p.top)}px, top bar ends at ${Math.round(p.headerBottom)}px, window ${p.viewport}px`);
  }
  return p;
}

/** Waits out a smooth scroll: until `selector`'s top stops moving (at most ~3 s). */
export async function settled(page, selector) {
  let last = null;
  for (let i = 0; i < 30; i += 1) {
    const p = await placement(page, selector);
    if (p && last && Math.abs(p.top - last.top) < 0.5) return p;
    last = p;
    await page.waitForTimeout(100);
  }
  return last;
}
