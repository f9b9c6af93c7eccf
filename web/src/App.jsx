// Routes, providers, the sign-in gate (accounts mode) and the token prompt (single-person mode).
import { useEffect, useState } from "react";
import { BrowserRouter, Outlet, Route, Routes } from "react-router-dom";
import { I18nProvider } from "./lib/i18n.jsx";
import { setTokenPrompt } from "./lib/api.js";
import Layout from "./components/Layout.jsx";
import TokenDialog from "./components/TokenDialog.jsx";
import TrainPage from "./pages/TrainPage.jsx";
import ModelPage from "./pages/ModelPage.jsx";
import CoverPage from "./pages/CoverPage.jsx";
import LibraryPage from "./pages/LibraryPage.jsx";
import NotFoundPage from "./pages/NotFoundPage.jsx";
import SignInPage from "./pages/SignInPage.jsx";
import TokensPage from "./pages/TokensPage.jsx";
import PasswordPage from "./pages/PasswordPage.jsx";
import AdminPage from "./pages/AdminPage.jsx";
import CheckPage from "./pages/CheckPage.jsx";
import { AccountProvider, useAccount } from "./lib/account.jsx";

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

/** Accounts mode and nobody signed in: the sign-in page stands in for every page (the address
 * stays, so signing in lands where the person was going). */
function Gate() {
  const account = useAccount();
  if (account.accounts && !account.user) return <SignInPage />;
  return <Outlet />;
}

export function AppRoutes() {
  return (
    <AccountProvider>
      <Routes>
        <Route element={<Layout />}>
          <Route path="setup" element={<SignInPage setup />} />
          <Route path="check" element={<CheckPage />} />
          <Route element={<Gate />}>
            <Route index element={<TrainPage />} />
            <Route path="train" element={<TrainPage />} />
            <Route path="models/:name" element={<ModelPage />} />
            <Route path="covers/:id" element={<CoverPage />} />
            <Route path="library" element={<LibraryPage />} />
            <Route path="account/tokens" element={<TokensPage />} />
            <Route path="account/password" element={<PasswordPage />} />
            <Route path="admin" element={<AdminPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Route>
      </Routes>
    </AccountProvider>
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
