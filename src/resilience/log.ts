/** One structured JSON line per event. Callers pass only fields that are safe to log: never a key or a token. */
export type Logger = (event: string, fields?: Record<string, unknown>) => void;

export const jsonLogger: Logger = (event, fields = {}) => {
  const level = event.endsWith(".failed") || event.endsWith(".error") ? "error" : "info";
  console.log(JSON.stringify({ level, event, ...fields }));
};
