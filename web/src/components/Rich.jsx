// A catalogue text with `commands` in backticks, shown as code (never as literal backticks).
export default function Rich({ text }) {
  const parts = String(text ?? "").split("`");
  return parts.map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part));
}
