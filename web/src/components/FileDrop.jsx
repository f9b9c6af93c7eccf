// Drop files here or pick them: a labelled, keyboard-usable file input with a drop zone.
import { useId, useRef, useState } from "react";
import { useI18n } from "../lib/i18n.jsx";
import { formatBytes } from "../lib/format.js";

export default function FileDrop({
  label,
  hint,
  accept,
  multiple = false,
  files,
  onAdd,
  onRemove,
  disabled = false,
  name,
}) {
  const { t, lang } = useI18n();
  const id = useId();
  const inputRef = useRef(null);
  const [over, setOver] = useState(false);

  const take = (list) => {
    const picked = Array.from(list || []);
    if (picked.length) onAdd(picked);
  };

  return (
    <div className="field">
      <span className="field-label" id={`${id}-label`}>
        {label}
      </span>
      <label
        htmlFor={id}
        className={`drop${over ? " drop-over" : ""}${disabled ? " drop-disabled" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          if (!disabled) setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (!disabled) take(e.dataTransfer?.files);
        }}
        data-testid={name ? `drop-${name}` : undefined}
      >
        <input
          ref={inputRef}
          id={id}
          name={name}
          type="file"
          className="visually-hidden"
          accept={accept}
          multiple={multiple}
          disabled={disabled}
          aria-labelledby={`${id}-label`}
          aria-describedby={hint ? `${id}-hint` : undefined}
          onChange={(e) => {
            take(e.target.files);
            e.target.value = ""; // picking the same file again still fires
          }}
        />
        <span className="drop-icon" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="28" height="28" fill="none" stroke="currentColor" strokeWidth="1.8">
            <path d="M12 16V4m0 0-4 4m4-4 4 4" strokeLinecap="round" strokeLinejoin="round" />
            <path d="M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" strokeLinecap="round" />
          </svg>
        </span>
        <span className="drop-text">{multiple ? t("files.dropMany") : t("files.dropOne")}</span>
        {hint ? (
          <span className="drop-hint" id={`${id}-hint`}>
            {hint}
          </span>
        ) : null}
      </label>
      {files && files.length ? (
        <ul className="file-list" aria-label={t("files.selected")}>
          {files.map((file, index) => (
            <li key={`${file.name}-${file.size}-${index}`}>
              <span className="file-name">{file.name}</span>
              <span className="file-size">{formatBytes(file.size, lang)}</span>
              {onRemove ? (
                <button
                  type="button"
                  className="icon-button"
                  onClick={() => onRemove(index)}
                  disabled={disabled}
                  aria-label={t("files.remove", { name: file.name })}
                >
                  ×
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
