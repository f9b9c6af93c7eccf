import { describe, expect, it, vi } from "vitest";

const calls = [];
vi.mock("socket.io-client", () => ({
  io: (opts) => {
    calls.push(opts);
    const s = { on() {}, emit() {}, io: { opts: {} }, connected: false };
    s.disconnect = () => s;
    s.connect = () => s;
    return s;
  },
}));

const { getSocket } = await import("../src/lib/socket.js");
const { setToken } = await import("../src/lib/api.js");

describe("the Socket.IO connection", () => {
  it("sends the token in the auth payload and the cookie, never in the handshake URL", () => {
    setToken("s3cret");
    getSocket();
    const opts = calls[0];
    expect(opts.query).toBeUndefined();
    let sent;
    opts.auth((payload) => {
      sent = payload;
    });
    expect(sent).toEqual({ token: "s3cret" });
    expect(document.cookie).toContain("persona_token=s3cret");
    setToken("");
  });
});
