import { defineConfig } from "drizzle-kit";

// `generate` needs no database; DATABASE_URL only matters for drizzle-kit commands that connect.
const url = process.env.DATABASE_URL;

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
  ...(url ? { dbCredentials: { url } } : {}),
});
