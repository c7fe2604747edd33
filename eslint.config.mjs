// ESLint with typescript-eslint and Pulumi's own rules: an Output inside a template
// literal renders as a warning string instead of its value, so it is an error here.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

// Nothing reaches into a dependency's internals: no internal module paths of the Pulumi SDK
// or of its process runner, no loader hooks, no patched prototypes or stack traces. The SDK's
// public entry points are `@pulumi/pulumi` and `@pulumi/pulumi/automation`; an upgrade is free
// to change everything below them.
const internalModules = {
    patterns: [
        {
            group: [
                "@pulumi/pulumi/automation/*",
                "@pulumi/pulumi/runtime",
                "@pulumi/pulumi/runtime/*",
                "@pulumi/pulumi/proto/*",
                "@pulumi/pulumi/cmd/*",
            ],
            message:
                "an internal module of the Pulumi SDK: use the public exports of @pulumi/pulumi or @pulumi/pulumi/automation",
        },
        {
            group: ["execa", "execa/*"],
            message: "the SDK's process runner is not ours to import: use node:child_process",
        },
    ],
};
const internalPath = "/^(@pulumi\\/pulumi\\/(automation|runtime|proto|cmd)(\\/|$)|execa(\\/|$))/";
const noPatching = [
    {
        selector: `CallExpression[callee.name='require'] > Literal[value=${internalPath}]`,
        message: "requires an internal module of a dependency (see no-restricted-imports)",
    },
    {
        selector: `CallExpression[callee.object.name='require'][callee.property.name='resolve'] > Literal[value=${internalPath}]`,
        message: "resolves an internal module of a dependency",
    },
    {
        selector: "MemberExpression[object.name='require'][property.name='extensions']",
        message: "require.extensions is a loader hook: use a maintained loader (tsx)",
    },
    {
        selector: "MemberExpression[property.name='_extensions']",
        message: "Module._extensions is a loader hook: use a maintained loader (tsx)",
    },
    {
        selector:
            "AssignmentExpression[left.object.name='Error'][left.property.name=/^(prepareStackTrace|stackTraceLimit)$/]",
        message: "patches how every stack trace is made: leave Error alone",
    },
    {
        selector: "AssignmentExpression > MemberExpression.left MemberExpression[property.name='prototype']",
        message: "patches a class's prototype: pass a typed stand-in instead",
    },
    {
        selector: "AssignmentExpression > MemberExpression.left[property.name='prototype']",
        message: "replaces a class's prototype: pass a typed stand-in instead",
    },
    {
        selector:
            "CallExpression[callee.object.name='Object'][callee.property.name=/^(defineProperty|defineProperties|assign|setPrototypeOf)$/] > MemberExpression.arguments[property.name='prototype']",
        message: "patches a class's prototype: pass a typed stand-in instead",
    },
];

export default tseslint.config(
    { ignores: ["node_modules/**", "bin/**", "scratch/**"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // `const parent = this` is the component convention we follow (see STYLE.md).
            "@typescript-eslint/no-this-alias": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "no-restricted-imports": ["error", internalModules],
            "no-restricted-syntax": ["error", ...noPatching],
        },
    },
    {
        // Tests poke at parsed YAML and JSON documents, where `any` is the honest type.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
