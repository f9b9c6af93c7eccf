// Losses and quality metrics by epoch, drawn with uPlot (canvas); the saves list has the numbers.
// uPlot is loaded on first use (its own chunk; it also needs a real browser: canvas, matchMedia).
// The canvas draws its axis titles in the shipped web font (waited for, so no tofu without a
// system CJK font), ticks in the card's muted colour, whole rounds only on the x axis; a touch
// on the chart shows that round's values in the legend, as a mouse hover does.
import { useEffect, useRef } from "react";
import { useI18n } from "../../lib/i18n.jsx";

const LOSSES = [
  ["loss_mel", "#c2410c"],
  ["eval_mel", "#7c3aed"],
];
const SCORES = [
  ["speaker_similarity", "#10b981"],
  ["f0_corr", "#60a5fa"],
];
const FONT_FAMILY = "'Noto Sans KR', sans-serif"; // @fontsource/noto-sans-kr, shipped with the app
const TICK = "#9aa0b4"; // --muted: readable on the dark card
const GRID = "rgba(255, 255, 255, 0.08)";
const ROUND_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

function axis(extra) {
  return {
    stroke: TICK,
    font: `12px ${FONT_FAMILY}`,
    labelFont: `600 12px ${FONT_FAMILY}`,
    grid: { stroke: GRID, width: 1 },
    ticks: { stroke: GRID, width: 1 },
    ...extra,
  };
}

/** Whole rounds only: "1 2 3", never "1.25". */
export function roundTicks(_u, splits) {
  return splits.map((v) => (Number.isInteger(v) ? String(v) : ""));
}

/** A touch on the plot moves the cursor there (uPlot follows only the mouse). */
function touchCursor(u) {
  const follow = (e) => {
    const touch = e.touches && e.touches[0];
    if (!touch) return;
    const rect = u.over.getBoundingClientRect();
    u.setCursor({ left: touch.clientX - rect.left, top: touch.clientY - rect.top });
  };
  u.over.addEventListener("touchstart", follow, { passive: true });
  u.over.addEventListener("touchmove", follow, { passive: true });
}

/** Waits for the web font's Hangul so the canvas does not draw boxes (never longer than 3 s). */
function fontReady(sample) {
  if (typeof document === "undefined" || !document.fonts?.load) return Promise.resolve();
  return Promise.race([
    document.fonts.load(`12px ${FONT_FAMILY}`, sample).catch(() => {}),
    new Promise((r) => setTimeout(r, 3000)),
  ]);
}

/** uPlot's columns: x = every epoch seen; losses per epoch; scores at save epochs (null between). */
export function chartData(epochs = [], saves = []) {
  const xs = [...new Set([...epochs.map((e) => e.epoch), ...saves.map((s) => s.epoch)])]
    .filter((x) => typeof x === "number")
    .sort((a, b) => a - b);
  const byEpoch = new Map(epochs.map((e) => [e.epoch, e]));
  const bySave = new Map(saves.map((s) => [s.epoch, s.metrics || {}]));
  const col = (source, key) =>
    xs.map((x) => {
      const v = source.get(x)?.[key];
      return typeof v === "number" ? v : null;
    });
  return [xs, ...LOSSES.map(([k]) => col(byEpoch, k)), ...SCORES.map(([k]) => col(bySave, k))];
}

export default function EpochChart({ epochs, saves }) {
  const { t } = useI18n();
  const box = useRef(null);
  const plot = useRef(null);
  const data = chartData(epochs, saves);

  useEffect(() => {
    if (!box.current || data[0].length === 0) return undefined;
    const width = Math.max(260, box.current.clientWidth || 320);
    const opts = {
      width,
      height: 220,
      scales: { x: { time: false }, loss: {}, score: { range: [0, 1] } },
      axes: [
        axis({ label: t("chart.epoch"), incrs: ROUND_STEPS, values: roundTicks }),
        axis({ scale: "loss", label: t("chart.loss") }),
        axis({ scale: "score", side: 1, label: t("chart.score"), grid: { show: false } }),
      ],
      plugins: [{ hooks: { init: touchCursor } }],
      series: [
        { label: t("chart.epoch") },
        ...LOSSES.map(([k, stroke]) => ({ label: t(`chart.${k}`), scale: "loss", stroke, width: 2 })),
        ...SCORES.map(([k, stroke]) => ({
          label: t(`quality.${k}`),
          scale: "score",
          stroke,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 6 },
        })),
      ],
    };
    let alive = true;
    Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css"), fontReady(t("chart.title"))])
      .then(([mod]) => {
        if (!alive || !box.current) return;
        const UPlot = mod.default || mod;
        if (plot.current) plot.current.destroy();
        plot.current = new UPlot(opts, data, box.current);
        box.current.dataset.drawn = "true";
      })
      .catch(() => {
        plot.current = null; // no canvas (unit tests): the list of saves still shows the numbers
      });
    return () => {
      alive = false;
      if (plot.current) plot.current.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(data), t]);

  if (data[0].length === 0) return null;
  return (
    <figure className="epoch-chart" data-testid="epoch-chart" data-points={data[0].length}>
      <figcaption>{t("chart.title")}</figcaption>
      <div ref={box} className="epoch-chart-canvas" />
    </figure>
  );
}
