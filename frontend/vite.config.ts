/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run dev` serves the client with hot reload and passes API calls to a local Taskyard.
const apiTarget = process.env.TASKYARD_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    // Inside the Python package, so `taskyard serve` finds it wherever the package is installed.
    outDir: "../src/taskyard/web/dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // no data: URLs; the CSP allows files from our own origin
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": apiTarget,
      "/health": apiTarget,
      "/metrics": apiTarget,
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
