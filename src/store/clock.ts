/** One place that makes timestamps, so every table stores the same format (ISO-8601 UTC, ms). */
export const now = (): string => new Date().toISOString();
