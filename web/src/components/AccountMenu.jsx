// The signed-in person in the top bar: name, storage used against the quota, password, tokens, admin,
// sign out. Nothing in single-person mode (except, on the server's machine, the way to accounts).
import { useEffect, useRef } from "react";
import { Link, useLocation } from "react-router-dom";
import { useAccount } from "../lib/account.jsx";
import { formatBytes } from "../lib/format.js";
import { useI18n } from "../lib/i18n.jsx";

export function usageText(t, lang, usage, quota) {
  const used = formatBytes(usage?.bytes ?? 0, lang);
  const limit = quota?.bytes;
  return limit == null ? t("account.usageNoLimit", { used }) : t("account.usage", { used, limit: formatBytes(limit, lang) });
}

export default function AccountMenu() {
  const { t, lang } = useI18n();
  const account = useAccount();
  const menu = useRef(null);
  const location = useLocation();
  useEffect(() => {
    if (menu.current) menu.current.open = false; // close after following one of its links
  }, [location.pathname]);
  if (!account.user) return null;
  const user = account.user;
  return (
    <details className="account-menu" ref={menu}>
      <summary aria-label={t("account.menu", { name: user.name })}>
        <svg className="account-avatar" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
          <circle cx="12" cy="9" r="4" fill="#fff" />
          <path d="M4 21c1-4.5 4.2-6.5 8-6.5s7 2 8 6.5" fill="#fff" />
        </svg>
        <span className="account-name">{user.name}</span>
      </summary>
      <div className="account-panel">
        <p className="account-usage">{usageText(t, lang, user.usage, user.quota)}</p>
        <Link to="/account/password">{t("account.passwordLink")}</Link>
        <Link to="/account/tokens">{t("account.tokens")}</Link>
        {user.admin ? <Link to="/admin">{t("account.admin")}</Link> : null}
        <button type="button" className="button button-ghost button-small" onClick={() => account.signOut()}>
          {t("account.signOut")}
        </button>
      </div>
    </details>
  );
}
