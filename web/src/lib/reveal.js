// Bringing what the person must see next into view: a job's progress card when it starts (on a
// phone it is below the form), an error where they are looking. The sticky top bar covers the
// top of the window, so a card scrolled to "start" keeps its title below the bar.
import { useEffect } from "react";

const GAP_PX = 12;

/** Height of the top bar when it stays on screen while scrolling (0 otherwise). */
function stickyHeaderHeight() {
  const bar = document.querySelector(".topbar");
  if (!bar) return 0;
  const { position } = getComputedStyle(bar);
  return position === "sticky" || position === "fixed" ? bar.getBoundingClientRect().height : 0;
}

/** Scrolls `el` into view below the sticky top bar; `block: "center"` for a message. */
export function reveal(el, { block = "start", smooth = false } = {}) {
  if (!el || typeof el.scrollIntoView !== "function") return;
  el.style.scrollMarginTop = `${Math.ceil(stickyHeaderHeight()) + GAP_PX}px`;
  el.scrollIntoView({ block, behavior: smooth ? "smooth" : "auto" });
}

/**
 * A progress card in view: once when it appears (smoothly), and once more when the job's
 * state first arrives (`known`), since the page above may have changed height meanwhile.
 */
export function useRevealCard(ref, known) {
  useEffect(() => {
    reveal(ref.current, { smooth: true });
  }, [ref]);
  useEffect(() => {
    if (known) reveal(ref.current);
  }, [ref, known]);
}
