// The UI script is embedded as text (see src/web/assets.ts).
declare const text: string;
export default text;
