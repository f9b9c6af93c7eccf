// A small modal dialog: focus moves in, Escape closes, focus returns where it was.
import { useEffect, useId, useRef } from "react";

export default function Dialog({ title, children, onClose, actions }) {
  const id = useId();
  const ref = useRef(null);
  useEffect(() => {
    const before = document.activeElement;
    const focusable = ref.current?.querySelector("input, button.autofocus, button");
    focusable?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <div className="backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose?.()}>
      <div
        ref={ref}
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.stopPropagation();
            onClose?.();
          } else if (e.key === "Tab") {
            // Keep focus inside the dialog while it is open.
            const items = [...ref.current.querySelectorAll("input, select, button, a[href]")].filter((el) => !el.disabled);
            if (!items.length) return;
            const first = items[0];
            const last = items[items.length - 1];
            if (e.shiftKey && document.activeElement === first) {
              e.preventDefault();
              last.focus();
            } else if (!e.shiftKey && document.activeElement === last) {
              e.preventDefault();
              first.focus();
            }
          }
        }}
      >
        <h2 id={`${id}-title`}>{title}</h2>
        <div className="dialog-body">{children}</div>
        {actions ? <div className="dialog-actions">{actions}</div> : null}
      </div>
    </div>
  );
}
