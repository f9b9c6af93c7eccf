// Losses and quality metrics by epoch, drawn with uPlot (canvas); the saves list has the numbers.
// uPlot is loaded on first use (its own chunk; it also needs a real browser: canvas, matchMedia).
import { useEffect, useRef } from "react";
import { useI18n } from "../../lib/i18n.jsx";

const LOSSES = [
  ["loss_mel", "#c2410c"],
  ["eval_mel", "#7c3aed"],
];
const SCORES = [
  ["speaker_similarity", "#047857"],
  ["f0_corr", "#1d4ed8"],
];

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
        { label: t("chart.epoch") },
        { scale: "loss", label: t("chart.loss") },
        { scale: "score", side: 1, label: t("chart.score"), grid: { show: false } },
      ],
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
    Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")])
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
