// Vite builds the app into dist/ (served by the Flask app at /); Vitest runs the unit tests.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API and Socket.IO to a local `persona serve`.
const backend = process.env.PERSONA_BACKEND || "http://127.0.0.1:5000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: {
      "/api": backend,
      "/socket.io": { target: backend, ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.{js,jsx}"],
    setupFiles: ["tests/setup.js"],
    restoreMocks: true,
    // The machine is small and shared: generous limits, no timing assertions.
    testTimeout: 30000,
  },
});
