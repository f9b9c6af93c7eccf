// UI wording: a small dictionary, Korean by default, English switchable (kept in localStorage).
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { KEYS, local } from "./storage.js";
import { messages } from "./messages.js";

export const LANGS = ["ko", "en"];

const I18nContext = createContext(null);

/** Fill `{name}` placeholders. */
export function interpolate(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in vars ? String(vars[key]) : whole));
}

export function translate(lang, key, vars) {
  const text = messages[lang]?.[key] ?? messages.en[key] ?? key;
  return interpolate(text, vars);
}

export function I18nProvider({ children, initialLang }) {
  const [lang, setLangState] = useState(() => {
    const saved = initialLang || local.get(KEYS.lang);
    return LANGS.includes(saved) ? saved : "ko";
  });
  const setLang = useCallback((next) => {
    if (!LANGS.includes(next)) return;
    local.set(KEYS.lang, next);
    setLangState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo(() => {
    const t = (key, vars) => translate(lang, key, vars);
    return { lang, setLang, t };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n() {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error("useI18n needs an I18nProvider");
  return ctx;
}
