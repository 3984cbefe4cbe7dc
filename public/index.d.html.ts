// The HTML shell is embedded as text (see src/web/assets.ts), not as a Bun HTML bundle.
declare const text: string;
export default text;
