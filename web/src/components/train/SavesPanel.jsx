// The saves of a training (GET .../training or .../saves): chart, the held-out slice and a player
// per save as previews arrive, which save was chosen and why, the "more rounds won't help" hint with
// Stop, and (on the model page) exporting another kept save.
import { useEffect, useState } from "react";
import { api, errorMessage } from "../../lib/api.js";
import { useI18n } from "../../lib/i18n.jsx";
import ErrorBox from "../ErrorBox.jsx";
import QualityFacts from "../QualityFacts.jsx";
import EpochChart from "./EpochChart.jsx";

/** The sentence for a choice: the catalogue's text for its code, else the server's English. */
export function choiceText(choice, t) {
  if (!choice) return "";
  const key = `saves.choice.${choice.code}`;
  const params = { ...(choice.params || {}) };
  for (const k of ["similarity", "other_similarity"]) if (typeof params[k] === "number") params[k] = params[k].toFixed(3);
  if (typeof params.f0_rmse_cents === "number") params.f0_rmse_cents = Math.round(params.f0_rmse_cents);
  const text = t(key, { epoch: choice.epoch, ...params });
  return text === key ? choice.message : text;
}

export default function SavesPanel({ url, refreshKey, onStop, stopping = false, exportModel = null, onExported }) {
  const { t } = useI18n();
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [pick, setPick] = useState("");
  const [busy, setBusy] = useState(false);
  const [exportError, setExportError] = useState(null);

  useEffect(() => {
    let alive = true;
    api
      .get(url)
      .then((r) => alive && (setData(r.data), setError(null)))
      .catch((err) => alive && err.response?.status !== 404 && setError(errorMessage(err, t)));
    return () => {
      alive = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url, refreshKey]);

  if (error) return <ErrorBox error={error} />;
  if (!data) return null;
  const saves = data.saves || [];
  const previews = data.previews || {};
  const chosen = data.exported_epoch ?? data.choice?.epoch ?? null;
  const kept = saves.filter((s) => s.kept);

  async function exportSave() {
    if (!pick) return;
    setBusy(true);
    setExportError(null);
    try {
      const r = await api.post(`/models/${encodeURIComponent(exportModel)}/saves/${pick}/export`);
      setData((d) => ({ ...d, exported_epoch: Number(pick) }));
      if (onExported) onExported(r.data);
    } catch (err) {
      setExportError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="saves" data-testid="saves">
      <h3 className="subhead">{t("saves.title")}</h3>
      {!previews.enabled && previews.reason ? (
        <p className="notice" data-testid="previews-off">
          {t("saves.previewsOff")} {previews.reason}
        </p>
      ) : null}
      {data.plateau && onStop ? (
        <div className="notice plateau" role="status" data-testid="plateau">
          <p>{t("saves.plateau")}</p>
          <button type="button" className="button" onClick={onStop} disabled={stopping}>
            {t("saves.stopNow")}
          </button>
        </div>
      ) : null}
      {data.choice ? (
        <p data-testid="choice">
          <strong>{t("saves.chosen", { epoch: chosen })}</strong>{" "}
          {data.exported_epoch != null && data.exported_epoch !== data.choice.epoch
            ? t("saves.userChoice", { epoch: data.exported_epoch })
            : choiceText(data.choice, t)}
        </p>
      ) : null}
      <EpochChart epochs={data.epochs || []} saves={saves} />
      {data.source_url ? (
        <p className="preview-source">
          <span>{t("saves.source")}</span>
          <audio controls preload="none" src={data.source_url} data-testid="preview-source" />
        </p>
      ) : null}
      {saves.length ? (
        <ol className="save-list" reversed>
          {[...saves].reverse().map((s) => (
            <li key={s.epoch} data-testid={`save-${s.epoch}`} className={s.epoch === chosen ? "save-chosen" : ""}>
              <div className="save-head">
                <strong>{t("saves.round", { epoch: s.epoch })}</strong>
                {s.epoch === chosen ? <span className="badge">{t("saves.chosenBadge")}</span> : null}
              </div>
              {s.preview_url ? (
                <audio controls preload="none" src={s.preview_url} data-testid={`preview-${s.epoch}`} />
              ) : null}
              <QualityFacts metrics={s.metrics} testid={`metrics-${s.epoch}`} />
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">{t("saves.none")}</p>
      )}
      {exportModel && kept.length > 1 ? (
        <div className="export-save">
          <label>
            {t("saves.exportLabel")}{" "}
            <select value={pick} onChange={(e) => setPick(e.target.value)} data-testid="export-pick">
              <option value="">—</option>
              {kept.map((s) => (
                <option key={s.epoch} value={s.epoch}>
                  {t("saves.round", { epoch: s.epoch })}
                </option>
              ))}
            </select>
          </label>{" "}
          <button type="button" className="button" onClick={exportSave} disabled={!pick || busy} data-testid="export-save">
            {t("saves.exportButton")}
          </button>
          <ErrorBox error={exportError} />
        </div>
      ) : null}
    </section>
  );
}
