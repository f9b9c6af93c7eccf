// Who is signed in (accounts mode), from `GET /api/session`; sign in, sign out, first admin.
//
// With no account on the server (or an older server without /api/session) the page is the
// single-person app it always was: `accounts` is false and nothing here gets in the way.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { api, getToken, onSignedOut, setCsrfToken, setToken } from "./api.js";
import { reconnectSocket } from "./socket.js";

const AccountContext = createContext(null);
const SINGLE = { ready: true, accounts: false, user: null, setup: false };

export function AccountProvider({ children }) {
  const [state, setState] = useState({ ...SINGLE, ready: false });

  const refresh = useCallback(async () => {
    try {
      const { data } = await api.get("/session");
      setCsrfToken(data.csrf_token);
      // The single-person server's access token, kept from before accounts were turned on,
      // would be sent instead of the session: forget it.
      if (data.accounts && getToken()) setToken(null);
      setState({ ready: true, accounts: Boolean(data.accounts), user: data.user || null, setup: Boolean(data.setup) });
    } catch {
      setState(SINGLE);
    }
  }, []);

  useEffect(() => {
    refresh();
    return onSignedOut(() => {
      setCsrfToken(null);
      setState((s) => ({ ...s, ready: true, accounts: true, user: null }));
    });
  }, [refresh]);

  const signedIn = useCallback((data) => {
    setCsrfToken(data.csrf_token);
    setState({ ready: true, accounts: true, user: data.user, setup: false });
    reconnectSocket();
  }, []);

  const value = useMemo(
    () => ({
      ...state,
      refresh,
      async signIn(username, password) {
        const { data } = await api.post("/session", { username, password });
        signedIn(data);
      },
      async changePassword(currentPassword, newPassword) {
        // The answer is a fresh session (its CSRF token); the other sessions ended on the server.
        const { data } = await api.post("/me/password", { current_password: currentPassword, new_password: newPassword });
        signedIn(data);
      },
      async setupAdmin(username, password) {
        const { data } = await api.post("/setup", { username, password });
        signedIn(data);
      },
      async signOut() {
        try {
          await api.delete("/session");
        } finally {
          setCsrfToken(null);
          setState((s) => ({ ...s, user: null }));
          reconnectSocket();
        }
      },
    }),
    [state, refresh, signedIn],
  );
  return <AccountContext.Provider value={value}>{children}</AccountContext.Provider>;
}

export function useAccount() {
  return useContext(AccountContext) || { ...SINGLE, refresh() {}, async signIn() {}, async signOut() {} };
}
