// The frame of every page: header with navigation and language switch, server status, footer.
import { Link, NavLink, Outlet } from "react-router-dom";
import { useI18n } from "../lib/i18n.jsx";
import { useHealth } from "../lib/health.js";
import AssetsBanner from "./AssetsBanner.jsx";
import AccountMenu from "./AccountMenu.jsx";
import { useAccount } from "../lib/account.jsx";
import Rich from "./Rich.jsx";

function Logo() {
  return (
    <svg viewBox="0 0 64 64" width="28" height="28" aria-hidden="true">
      <defs>
        <linearGradient id="logo-g" x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#8b5cf6" />
          <stop offset="1" stopColor="#ec4899" />
        </linearGradient>
      </defs>
      <rect width="64" height="64" rx="16" fill="url(#logo-g)" />
      <path d="M20 44V20h14a9 9 0 0 1 0 18h-8v6z" fill="none" stroke="#fff" strokeWidth="5" strokeLinejoin="round" />
    </svg>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div className="lang" role="group" aria-label={t("nav.language")}>
      <button type="button" aria-pressed={lang === "ko"} onClick={() => setLang("ko")} lang="ko">
        한국어
      </button>
      <button type="button" aria-pressed={lang === "en"} onClick={() => setLang("en")} lang="en">
        English
      </button>
    </div>
  );
}

/** Server trouble first (unreachable, no worker), else the weights jobs need and lack. */
function ServerStatus() {
  const { t } = useI18n();
  const health = useHealth();
  if (!health) return null;
  if (health.status === "unreachable") {
    return (
      <div className="banner banner-warn" role="status">
        <Rich text={t("health.unreachable")} />
      </div>
    );
  }
  const workers = Array.isArray(health.workers) ? health.workers.length : health.workers;
  if (workers === 0 && health.jobs?.queued > 0) {
    return (
      <div className="banner banner-warn" role="status">
        <Rich text={t("health.noWorker", { n: health.jobs.queued })} />
      </div>
    );
  }
  if (health.status === "unauthorized") return null;
  return <AssetsBanner />;
}

export default function Layout() {
  const { t } = useI18n();
  const account = useAccount();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t("nav.skip")}
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/" className="brand" aria-label={t("nav.home")}>
            <Logo />
            <span>Persona</span>
          </Link>
          <nav aria-label={t("nav.main")}>
            <NavLink to="/train" className={({ isActive }) => (isActive ? "active" : undefined)}>
              {t("nav.train")}
            </NavLink>
            <NavLink to="/library" className={({ isActive }) => (isActive ? "active" : undefined)}>
              {t("nav.library")}
            </NavLink>
          </nav>
          <LanguageSwitch />
          <AccountMenu />
        </div>
      </header>
      <ServerStatus />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="footer">
        <p>{t("footer.text")}</p>
        <p>
          <Link to="/check">{t("nav.check")}</Link>
        </p>
        {account.setup ? (
          <p>
            <Link to="/setup">{t("account.setupLink")}</Link>
          </p>
        ) : null}
      </footer>
    </div>
  );
}
