// Test helpers: a fake HTTP backend behind the real Axios instance, and rendering with providers.
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { AxiosError } from "axios";
import { api } from "../src/lib/api.js";
import { I18nProvider } from "../src/lib/i18n.jsx";
import { AppRoutes } from "../src/App.jsx";
import SERVER_OPTIONS from "./server-options.json";

/**
 * Route requests to handlers: `{"GET /models": () => [200, [...]]}`. Handlers get the Axios
 * config and return [status, data] or [status, data, headers]. Unknown routes answer 404.
 * Returns the list of calls.
 */
export function mockApi(routes) {
  const calls = [];
  api.defaults.adapter = async (config) => {
    const path = decodeURIComponent(config.url.replace(/^\/api/, "").split("?")[0]);
    const key = `${config.method.toUpperCase()} ${path}`;
    calls.push({ key, config });
    const handler = routes[key];
    const [status, data, headers = {}] = handler ? await handler(config) : [404, { error: { code: "not_found", message: `no route ${key}` } }];
    const response = { status, data, headers, config, statusText: String(status), request: {} };
    if (status >= 400) {
      throw new AxiosError(`Request failed with status code ${status}`, "ERR_BAD_RESPONSE", config, {}, response);
    }
    return response;
  };
  return calls;
}

export function LocationProbe() {
  const location = useLocation();
  return <div data-testid="location">{location.pathname}</div>;
}

export function renderWithProviders(ui, { route = "/", lang = "ko" } = {}) {
  return render(
    <I18nProvider initialLang={lang}>
      <MemoryRouter initialEntries={[route]}>
        {ui}
        <Routes>
          <Route path="*" element={<LocationProbe />} />
        </Routes>
      </MemoryRouter>
    </I18nProvider>,
  );
}

export function renderApp(route = "/", lang = "ko") {
  return renderWithProviders(<AppRoutes />, { route, lang });
}

// The first bytes of a real file of that kind (the page sniffs them: a fake .wav is refused).
const HEADS = { ".mp3": "ID3\x03", ".flac": "fLaC", ".ogg": "OggS", ".zip": "PK\x03\x04" };

export function audioFile(name, size = 1000, type = "audio/wav") {
  const ext = name.slice(name.lastIndexOf(".")).toLowerCase();
  const head = HEADS[ext] || "RIFF\x00\x00\x00\x00WAVEfmt ";
  const bytes = new Uint8Array(Math.min(size, 16));
  for (let i = 0; i < bytes.length && i < head.length; i++) bytes[i] = head.charCodeAt(i);
  const file = new File([bytes], name, { type });
  Object.defineProperty(file, "size", { value: size });
  return file;
}

// `options` as the real server describes them; tests/test_web_fixtures.py keeps this file equal to
// the server's GET /api/health `options`, so the page is tested against what it will really get.
export { SERVER_OPTIONS };

export const health = () => [200, { status: "ok", version: "0.1.0", device: "cpu", assets: {}, options: SERVER_OPTIONS }];
