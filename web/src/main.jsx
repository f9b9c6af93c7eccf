import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App.jsx";
// Hangul on machines without a Korean font: Noto Sans KR (OFL), one weight, split by unicode
// range so a page loads only the slices its text uses.
import "@fontsource/noto-sans-kr/400.css";
import "./styles.css";

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
