// Asks for the server's access token after a 401; kept in localStorage by the caller.
import { useState } from "react";
import { useI18n } from "../lib/i18n.jsx";
import Dialog from "./Dialog.jsx";
import TextField from "./TextField.jsx";

export default function TokenDialog({ hadToken, onSubmit, onCancel }) {
  const { t } = useI18n();
  const [value, setValue] = useState("");
  return (
    <Dialog title={t("token.title")} onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onSubmit(value.trim());
        }}
      >
        <p>{hadToken ? t("token.rejected") : t("token.needed")}</p>
        <TextField
          id="persona-token"
          label={t("token.label")}
          type="password"
          autoComplete="current-password"
          value={value}
          onValue={setValue}
        />
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="submit" className="button" disabled={!value.trim()}>
            {t("token.save")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
