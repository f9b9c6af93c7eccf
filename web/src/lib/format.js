// Number, size, time and date wording shared by the pages.

export function formatBytes(bytes, lang = "ko") {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(lang, { maximumFractionDigits: digits })} ${units[unit]}`;
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function formatDuration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * A time left as a person reads it: one value when the range is narrow, else "low – high"
 * (seconds; `low`/`high` may be null). Returns "" when there is nothing to say.
 */
export function formatEta(mid, low = null, high = null) {
  if (typeof mid !== "number" || !Number.isFinite(mid) || mid < 0) return "";
  if (typeof low !== "number" || typeof high !== "number" || high - low < Math.max(20, 0.15 * mid)) return formatDuration(mid);
  return `${formatDuration(low)} – ${formatDuration(high)}`;
}

export function formatDate(value, lang = "ko") {
  if (!value) return "—";
  const date = typeof value === "number" ? new Date(value * (value < 1e12 ? 1000 : 1)) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(lang === "ko" ? "ko-KR" : "en-US", { dateStyle: "medium", timeStyle: "short" });
}

export function formatSampleRate(rate) {
  if (!rate) return "—";
  if (typeof rate === "string") return rate;
  return `${(rate / 1000).toLocaleString("en", { maximumFractionDigits: 1 })} kHz`;
}

export function formatPitch(semitones) {
  const n = Number(semitones) || 0;
  return n > 0 ? `+${n}` : `${n}`;
}

/** A cover's pitch as the server recorded it (`pitch`: the shift used; `pitch_auto`: chosen by the server). */
export function coverPitchText(cover, t) {
  return `${formatPitch(cover.pitch)} ${t("pitch.unit")}${cover.pitch_auto ? ` (${t("coverPage.auto")})` : ""}`;
}

export function formatNumber(value, digits = 3) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value ?? "—");
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(digits);
}

const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/** 220 -> "A3" (nearest equal-tempered note, A4 = 440 Hz). */
export function noteName(hz) {
  if (typeof hz !== "number" || !(hz > 0)) return "—";
  const midi = Math.round(69 + 12 * Math.log2(hz / 440));
  return `${NOTE_NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;
}
