// Test helpers: a fake HTTP backend behind the real Axios instance, and rendering with providers.
import { render } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { AxiosError } from "axios";
import { api } from "../src/lib/api.js";
import { I18nProvider } from "../src/lib/i18n.jsx";
import { AppRoutes } from "../src/App.jsx";

/**
 * Route requests to handlers: `{"GET /models": () => [200, [...]]}`. Handlers get the Axios
 * config and return [status, data]. Unknown routes answer 404. Returns the list of calls.
 */
export function mockApi(routes) {
  const calls = [];
  api.defaults.adapter = async (config) => {
    const path = decodeURIComponent(config.url.replace(/^\/api/, "").split("?")[0]);
    const key = `${config.method.toUpperCase()} ${path}`;
    calls.push({ key, config });
    const handler = routes[key];
    const [status, data] = handler ? await handler(config) : [404, { error: { code: "not_found", message: `no route ${key}` } }];
    const response = { status, data, headers: {}, config, statusText: String(status), request: {} };
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

export function audioFile(name, size = 1000, type = "audio/wav") {
  const file = new File([new Uint8Array(Math.min(size, 16))], name, { type });
  Object.defineProperty(file, "size", { value: size });
  return file;
}

// `options` as the server describes them (persona.params.describe of TRAIN_PARAMS / COVER_PARAMS).
const num = (type, min, max, dflt) => ({ type, min, max, default: dflt });
const choice = (choices, dflt) => ({ type: "string", choices, default: dflt });
const flag = (dflt) => ({ type: "boolean", default: dflt });
const F0 = ["rmvpe", "crepe", "fcpe", "harvest", "pm"];
export const SERVER_OPTIONS = {
  train: {
    epochs: num("integer", 1, 1000, 100),
    batch_size: num("integer", 1, 64, 4),
    save_every: num("integer", 1, 1000, 5),
    sample_rate: choice(["32k", "40k", "48k"], "40k"),
    f0_method: choice(F0, "rmvpe"),
  },
  cover: {
    pitch: num("number", -24, 24, 0),
    f0_method: choice(F0, "rmvpe"),
    index_rate: num("number", 0, 1, 0.75),
    filter_radius: num("integer", 0, 7, 3),
    rms_mix_rate: num("number", 0, 1, 0.25),
    protect: num("number", 0, 0.5, 0.33),
    vocal_gain: num("number", -24, 12, 0),
    instrumental_gain: num("number", -24, 12, 0),
    reverb: num("number", 0, 1, 0),
    format: choice(["wav", "mp3"], "wav"),
    backing: choice(["original", "converted", "off"], "original"),
    key_mode: choice(["vocals", "song"], "vocals"),
    separation_model: choice(["auto", "bs_roformer", "htdemucs"], "auto"),
    pitch_auto: flag(false),
    lead_backing: flag(false),
    dereverb: flag(false),
  },
};

export const health = () => [200, { status: "ok", version: "0.1.0", device: "cpu", assets: {}, options: SERVER_OPTIONS }];
