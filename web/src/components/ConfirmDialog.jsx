// "Really delete?" with Cancel focused first, so Enter never deletes by accident.
import { useI18n } from "../lib/i18n.jsx";
import Dialog from "./Dialog.jsx";

export default function ConfirmDialog({ title, message, confirmLabel, onConfirm, onCancel, busy = false }) {
  const { t } = useI18n();
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      actions={
        <>
          <button type="button" className="button button-ghost autofocus" onClick={onCancel}>
            {t("common.cancel")}
          </button>
          <button type="button" className="button button-danger" onClick={onConfirm} disabled={busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <p>{message}</p>
    </Dialog>
  );
}
