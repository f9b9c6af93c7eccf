// The time left as the page shows it: the server's estimate, counted down between its reports.
//
// A training reports once per step (a minute apart on a CPU) and not at all during a save, so
// the figure it last sent would stand still; here every bound counts down from when it came.
import { useEffect, useState } from "react";

/**
 * `{mid, low, high}` seconds, `gone` seconds after they were reported; null once even the longest
 * estimate has run out (the page says 계산 중 until the next report corrects it).
 */
export function countDown(mid, low, high, gone) {
  if (typeof mid !== "number" || !Number.isFinite(mid)) return null;
  const ranged = typeof low === "number" && typeof high === "number";
  if (gone > 0 && (ranged ? high : mid) - gone <= 0) return null;
  const lowLeft = ranged ? Math.max(0, low - gone) : null;
  return {
    mid: Math.max(ranged ? lowLeft : 0, mid - gone),
    low: lowLeft,
    high: ranged ? high - gone : null,
  };
}

/** `countDown` of the estimate now, re-rendered every second while `running`. */
export function useTimeLeft(mid, low, high, running) {
  const key = `${mid}|${low}|${high}`;
  const [since, setSince] = useState(() => ({ key, at: Date.now() }));
  const at = since.key === key ? since.at : Date.now();
  if (since.key !== key) setSince({ key, at }); // a new report: count from now
  const [, tick] = useState(0);
  const counting = running && typeof mid === "number";
  useEffect(() => {
    if (!counting) return undefined;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [counting, key]);
  return countDown(mid, low, high, (Date.now() - at) / 1000);
}
