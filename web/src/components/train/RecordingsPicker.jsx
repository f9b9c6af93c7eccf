// The recordings to train on: a multi-file drop, what was refused and why, and "n of max".
import { useState } from "react";
import { useI18n } from "../../lib/i18n.jsx";
import { addTrainingFiles, sniffAudio } from "../../lib/files.js";
import FileDrop from "../FileDrop.jsx";

export default function RecordingsPicker({ files, onChange, limits, disabled }) {
  const { t } = useI18n();
  const [fileErrors, setFileErrors] = useState([]);
  return (
    <>
      <FileDrop
        name="recordings"
        label={t("train.files")}
        hint={t("train.filesHint", {
          types: limits.extensions.join(" "),
          max: limits.maxFiles,
          size: Math.round(limits.maxFileBytes / 1048576),
        })}
        accept={[...limits.extensions, "audio/*"].join(",")}
        multiple
        files={files}
        disabled={disabled}
        onAdd={async (picked) => {
          const sniffed = await sniffAudio(picked, limits); // a renamed non-audio file never gets in
          const result = addTrainingFiles(files, sniffed.audio, limits);
          onChange(result.files);
          setFileErrors([...sniffed.errors, ...result.errors]);
        }}
        onRemove={(index) => {
          onChange(files.filter((_, i) => i !== index));
          setFileErrors([]);
        }}
      />
      {fileErrors.length ? (
        <div className="alert alert-error" role="alert" data-testid="file-errors">
          <span className="alert-icon" aria-hidden="true">!</span>
          <ul className="alert-body">
            {fileErrors.map((fe, i) => (
              <li key={i}>{t(fe.key, fe.vars)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <p className="field-hint count" aria-live="polite">
        {t("train.count", { n: files.length, max: limits.maxFiles })}
      </p>
    </>
  );
}
