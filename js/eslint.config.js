// ESLint's recommended rules for the front-end modules (browser ES modules) and their Node tests.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  { files: ["*.js"], languageOptions: { sourceType: "module", globals: globals.browser } },
  { files: ["tests/**/*.js"], languageOptions: { sourceType: "module", globals: { ...globals.node, ...globals.browser } } },
  { ignores: ["node_modules/**"] },
];
