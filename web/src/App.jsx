// Routes, providers and the token prompt.
import { useEffect, useState } from "react";
import { BrowserRouter, Route, Routes } from "react-router-dom";
import { I18nProvider } from "./lib/i18n.jsx";
import { setTokenPrompt } from "./lib/api.js";
import Layout from "./components/Layout.jsx";
import TokenDialog from "./components/TokenDialog.jsx";
import TrainPage from "./pages/TrainPage.jsx";
import ModelPage from "./pages/ModelPage.jsx";
import CoverPage from "./pages/CoverPage.jsx";
import LibraryPage from "./pages/LibraryPage.jsx";
import NotFoundPage from "./pages/NotFoundPage.jsx";

function TokenPrompt() {
  const [request, setRequest] = useState(null);
  useEffect(() => {
    setTokenPrompt((hadToken) => new Promise((resolve) => setRequest({ hadToken, resolve })));
    return () => setTokenPrompt(null);
  }, []);
  if (!request) return null;
  const finish = (token) => {
    request.resolve(token);
    setRequest(null);
  };
  return <TokenDialog hadToken={request.hadToken} onSubmit={finish} onCancel={() => finish(null)} />;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<TrainPage />} />
        <Route path="train" element={<TrainPage />} />
        <Route path="models/:name" element={<ModelPage />} />
        <Route path="covers/:id" element={<CoverPage />} />
        <Route path="library" element={<LibraryPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

export default function App() {
  return (
    <I18nProvider>
      <BrowserRouter>
        <AppRoutes />
        <TokenPrompt />
      </BrowserRouter>
    </I18nProvider>
  );
}
